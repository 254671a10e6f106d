"""Staff search on the borrowing and lending lists (issue 17: fast at a million requests).

Two steps, on both lists:

1. **Exact lookups first**, when staff typed one token: the request number, the partner's
   request id, a patron's card, any item barcode. Each is an indexed equality (the number's
   unique index, the rota's attempt ids, the patron's and the item barcodes' unique indexes),
   so a scanned or pasted number answers in milliseconds whatever the table's size.
2. Otherwise **every word must occur in the request's `search_text`**: number, ids, title,
   author, article title and author, ISBN/ISSN/DOI/OCLC/PMID, the patron's names and card,
   the partner's barcode — folded (kauko.text.fold) and kept up to date on save. PostgreSQL
   answers `LIKE '%word%'` from a trigram (pg_trgm) GIN index (migration
   0009_request_search_text); SQLite, for the demo, scans.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fulfillment.models import ItemBarcode
from kauko.text import compact_identifier, fold
from patrons.models import Patron

# What each request model copies into its search text (its own fields; the patron's are
# added by the borrowing side, see `search_parts`).
CITATION_SEARCH_FIELDS = ("number", "title", "author", "article_title", "article_author",
                          "isbn", "issn", "doi", "oclc_number", "pmid")


def build_search_text(parts) -> str:
    words = []
    for part in parts:
        if part:
            words.append(fold(str(part)))
            compact = compact_identifier(str(part))
            if compact != part:
                words.append(compact)
    return " ".join(words)


class Searchable(models.Model):
    """Keeps `search_text` in step with the fields it is made of, on every save."""

    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

    SEARCH_FIELDS: tuple[str, ...] = CITATION_SEARCH_FIELDS

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        source = self._search_source()
        loaded = getattr(self, "_search_loaded", None)
        if source is None or source != loaded or not self.search_text:
            # Something it is made of changed (or the row is new): write it afresh. A save
            # that changes none of them (most status changes) costs nothing more.
            self.search_text = build_search_text(self.search_parts())
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)
        self._search_loaded = self._search_source()

    def search_parts(self) -> list:
        return [getattr(self, name) for name in self.SEARCH_FIELDS]

    def _search_source(self):
        deferred = self.get_deferred_fields()
        if any(name in deferred for name in self.SEARCH_FIELDS):
            return None
        return tuple(getattr(self, name) for name in self.SEARCH_FIELDS)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._search_loaded = instance._search_source()
        return instance


def search_words(value: str) -> list[str]:
    return [compact_identifier(word) for word in fold(value).split()]


def text_search(queryset, value: str):
    """Requests whose search text contains every word of `value`."""
    for word in search_words(value):
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def exact_search(queryset, *, institution, value: str):
    """Requests that `value` names exactly (each model says how: `exact_search_q`), or None
    when it names none. Patron cards and item barcodes are looked up first, by their unique
    indexes, so the request query stays a few indexed equalities."""
    value = value.strip()
    # Numbers, ids, cards and barcodes are one token with a digit in it; a word is not.
    if (not value or any(char.isspace() for char in value)
            or not any(char.isdigit() for char in value)):
        return None
    patron_ids = list(Patron.objects.filter(institution=institution, barcode=value)
                      .values_list("id", flat=True))
    item_ids = list(ItemBarcode.objects.filter(institution=institution, barcode=value)
                    .values_list("item_id", flat=True))
    found = queryset.filter(queryset.model.exact_search_q(
        value=value, patron_ids=patron_ids, item_ids=item_ids))
    return found if found.exists() else None


def search(queryset, *, institution, value: str):
    """Exact matches when `value` names requests exactly, else the text search."""
    exact = exact_search(queryset, institution=institution, value=value)
    return exact if exact is not None else text_search(queryset, value)

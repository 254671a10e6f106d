"""Catalogue matching: which of our own items answer a citation (a partner's lending
request, or a borrowing request that our own shelves may already fill).

Identifiers first (ISBN, ISSN, OCLC number): they name an edition exactly. Without a match
there, title, author and year, compared loosely (case, punctuation, subtitles and leading
articles aside), because partners type citations by hand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from fulfillment.models import BibRecord, Item

UNAVAILABLE = (Item.Status.WITHDRAWN, Item.Status.LOST, Item.Status.MISSING)
LEADING_ARTICLES = {"the", "a", "an", "der", "die", "das", "le", "la", "les", "el"}


@dataclass(frozen=True)
class Candidate:
    item: Item
    matched_by: str  # "identifier" or "title" (LendingCandidate.MatchedBy's values)

    @property
    def available(self) -> bool:
        return is_available(self.item)


def is_available(item: Item) -> bool:
    """On the shelf and free to lend: in place at home, not reserved for reading room use."""
    return (item.status == Item.Status.IN_PLACE and not item.is_temporary
            and item.location_id == item.permanent_location_id)


def isbn_variants(value: str) -> set[str]:
    """The ISBN as stored either way: 10 or 13 digits, hyphens or not."""
    digits = re.sub(r"[^0-9Xx]", "", value or "").upper()
    if len(digits) == 10:
        core = "978" + digits[:9]
        return {digits, core + _isbn13_check(core)}
    if len(digits) == 13:
        variants = {digits}
        if digits.startswith("978"):
            core = digits[3:12]
            variants.add(core + _isbn10_check(core))
        return variants
    return {digits} if digits else set()


def _isbn13_check(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn10_check(first9: str) -> str:
    total = sum(int(d) * (10 - i) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def issn_variants(value: str) -> set[str]:
    digits = re.sub(r"[^0-9Xx]", "", value or "").upper()
    if len(digits) != 8:
        return {digits} if digits else set()
    return {digits, f"{digits[:4]}-{digits[4:]}"}


def normalize_title(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "").casefold()
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = re.split(r"\s[:/=]\s|\s:|:\s", value, maxsplit=1)[0]  # drop the subtitle
    words = re.findall(r"\w+", value)
    if words and words[0] in LEADING_ARTICLES and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def _surname(author: str) -> str:
    author = normalize_title(author.split(",")[0] if "," in author else
                             (author.split()[-1] if author.split() else ""))
    return author


def _titles_match(wanted: str, have: str) -> bool:
    a, b = normalize_title(wanted), normalize_title(have)
    return bool(a and b) and (a == b or a.startswith(b + " ") or b.startswith(a + " "))


def find_candidates(request, *, limit: int = 50) -> list[Candidate]:
    """Our items that match the request's citation, best evidence first. `request` is
    anything with institution_id and the citation's isbn, issn, oclc_number, title,
    article_title, author and year."""
    bibs = BibRecord.objects.filter(institution_id=request.institution_id, hidden=False)
    matched_by = "identifier"
    ids = _identifier_bibs(request, bibs)
    if not ids:
        matched_by = "title"
        ids = _title_bibs(request, bibs)
    if not ids:
        return []
    items = (Item.objects.filter(institution_id=request.institution_id, bib_id__in=ids,
                                 is_temporary=False)
             .exclude(status=Item.Status.WITHDRAWN)
             .select_related("bib", "location__library", "permanent_location__library")
             .prefetch_related("barcodes").order_by("pk")[:limit])
    found = [Candidate(item, matched_by) for item in items]
    # Available ones first, so "pick the one available match" reads the head of the list.
    return sorted(found, key=lambda c: not c.available)


def _identifier_bibs(request, bibs) -> list[int]:
    ids: list[int] = []
    isbns = isbn_variants(request.isbn)
    if isbns:
        ids += bibs.filter(isbn__in=isbns).values_list("pk", flat=True)
    issns = issn_variants(request.issn)
    if issns and not ids:
        ids += bibs.filter(issn__in=issns).values_list("pk", flat=True)
    if request.oclc_number.strip() and not ids:
        ids += bibs.filter(oclc_number=request.oclc_number.strip()).values_list(
            "pk", flat=True)
    return list(dict.fromkeys(ids))


def _title_bibs(request, bibs) -> list[int]:
    wanted = normalize_title(request.title)
    if not wanted:
        return []
    # Narrow in the database by the title's longest word as typed (accents kept, as
    # stored), then compare properly here.
    # Plain ASCII words first: SQLite's LIKE folds the case of ASCII letters only.
    main_title = re.split(r"\s[:/=]\s|\s:|:\s", request.title, maxsplit=1)[0]
    key = max(re.findall(r"\w+", main_title) or [wanted],
              key=lambda word: (word.isascii(), len(word)))
    # For an article or a chapter the year (and often the author) are the part's, not the
    # journal's or the book's: a journal held since 1950 must match an article from 2024.
    part = bool(request.article_title.strip())
    surname = _surname(request.author) if request.author.strip() and not part else ""
    year = "" if part else request.year.strip()[:4]
    ids = []
    for bib in bibs.filter(title__icontains=key).only("pk", "title", "author", "year")[:500]:
        if not _titles_match(request.title, bib.title):
            continue
        if surname and bib.author and surname not in normalize_title(bib.author):
            continue
        if year and bib.year and not bib.year.startswith(year):
            continue
        ids.append(bib.pk)
    return ids

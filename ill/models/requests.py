"""What borrowing and lending requests share: the citation, numbering, who-and-when, the
source of a change and the history table both sides write."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kauko.i18n import i18n_render


class Counter(models.Model):
    """Per-institution sequences for human-readable request numbers."""

    institution = models.ForeignKey("kauko.Institution", on_delete=models.CASCADE)
    name = models.CharField(max_length=30)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "name"],
                                               name="uniq_counter")]

    def __str__(self):
        return f"{self.name}: {self.value}"


class Citation(models.Model):
    """What is asked for, as complete as staff or the patron could make it."""

    title = models.CharField(_("title"), max_length=500,
                             help_text=_("Book title, or the journal's title for an article."))
    author = models.CharField(_("author"), max_length=300, blank=True)
    article_title = models.CharField(_("article or chapter title"), max_length=500, blank=True)
    article_author = models.CharField(_("article or chapter author"), max_length=300,
                                      blank=True)
    volume = models.CharField(_("volume"), max_length=50, blank=True)
    issue = models.CharField(_("issue"), max_length=50, blank=True)
    pages = models.CharField(_("pages"), max_length=50, blank=True)
    year = models.CharField(_("year"), max_length=20, blank=True)
    edition = models.CharField(_("edition"), max_length=100, blank=True)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    place_of_publication = models.CharField(_("place of publication"), max_length=200,
                                            blank=True)
    isbn = models.CharField(_("ISBN"), max_length=20, blank=True)
    issn = models.CharField(_("ISSN"), max_length=20, blank=True)
    oclc_number = models.CharField(_("OCLC number"), max_length=30, blank=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    pmid = models.CharField(_("PMID"), max_length=30, blank=True)
    citation_text = models.TextField(
        _("citation as given"), blank=True,
        help_text=_("The citation as the patron pasted it, kept unchanged."))

    CITATION_FIELDS = ("title", "author", "article_title", "article_author", "volume", "issue",
                       "pages", "year", "edition", "publisher", "place_of_publication", "isbn",
                       "issn", "oclc_number", "doi", "pmid", "citation_text")

    class Meta:
        abstract = True

    @property
    def display_citation(self) -> str:
        """A human citation over several lines, for letters and slips."""
        lines = []
        if self.article_title:
            lines.append(" / ".join(p for p in (self.article_title, self.article_author) if p))
            lines.append(_("In: %(title)s") % {"title": self.title})
        else:
            lines.append(" / ".join(p for p in (self.title, self.author) if p))
        details = ", ".join(p for p in (
            self.edition, self.publisher, self.year,
            (_("vol. %(v)s") % {"v": self.volume}) if self.volume else "",
            (_("no. %(n)s") % {"n": self.issue}) if self.issue else "",
            (_("pp. %(p)s") % {"p": self.pages}) if self.pages else "",
        ) if p)
        if details:
            lines.append(details)
        ids = ", ".join(f"{label} {value}" for label, value in (
            ("ISBN", self.isbn), ("ISSN", self.issn), ("OCLC", self.oclc_number),
            ("DOI", self.doi), ("PMID", self.pmid)) if value)
        if ids:
            lines.append(ids)
        return "\n".join(str(line) for line in lines)


class Source(models.TextChoices):
    STAFF = "staff", _("Staff")
    PATRON = "patron", _("Patron")
    PARTNER = "partner", _("Partner")
    SYSTEM = "system", _("Automatic")
    API = "api", _("Outside system (API)")


class RequestRecord(models.Model):
    """What borrowing and lending requests both keep about themselves: their number, the
    version that guards against overwriting a colleague's change, and who and when."""

    number = models.CharField(_("request number"), max_length=40, db_index=True)
    version = models.PositiveIntegerField(default=1, help_text=_("Bumped on every change."))
    internal_note = models.TextField(_("internal note"), blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("assigned to"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    source = models.CharField(_("created by"), max_length=10, choices=Source.choices,
                              default=Source.STAFF)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)

    # Each request model names its own transitions' labels: {transition name: label}.
    TRANSITION_LABELS: dict = {}
    # History actions that are not transitions (notes, messages, desk events), by name.
    HISTORY_LABELS: dict = {
        "create": _("Created"),
        "edit": _("Edited"),
        "set_rota": _("Rota chosen"),
        "locate": _("Located"),
        "choose_item": _("Item chosen"),
        "partner_message": _("Message from the partner"),
        "partner_note": _("Note to or from the partner"),
        "query_patron": _("Patron asked"),
        "purchase_request": _("Purchase suggested"),
        "fill_from_collection": _("Filled from our collection"),
        "reject_conditions": _("Conditions refused"),
        "iso_retry": _("Asked the partner again"),
        "iso_resend": _("Message sent again"),
        "iso_delivery_problem": _("A message could not be delivered"),
        "copy_arrived": _("The copy arrived"),
        "deliver_to_patron": _("Delivered to the patron"),
        "article_opened": _("The patron opened the article"),
        "at_desk": _("At the pickup desk"),
        "hold_shelf_expired": _("Not picked up in time"),
        "undo_scan": _("Desk scan undone"),
        "cancel_confirmed": _("The partner confirmed the cancel"),
        "cancel_refused": _("The partner refused to cancel"),
        "overdue_notice": _("Overdue notice sent"),
        "pull_slip_printed": _("Pull slip printed"),
        "attention_cleared": _("Flag cleared"),
        "attention_dismissed": _("Flag dismissed"),
        "status_request": _("Status asked of the partner"),
        "retry_possible": _("Retry offered"),
        "copy_fetched": _("The partner fetched the copy"),
        "assign_rota": _("Rota chosen by a rule"),
        "flag": _("Flagged"),
        "partner_reminder": _("Reminder sent to the partner"),
    }

    class Meta:
        abstract = True

    @classmethod
    def action_label(cls, name: str) -> str:
        """What staff read for a transition or history action of this model (its name when
        it has no label)."""
        label = cls.TRANSITION_LABELS.get(name) or cls.HISTORY_LABELS.get(name)
        return str(label) if label else name

    @classmethod
    def status_label(cls, value: str) -> str:
        """The status as staff read it in their language (the code itself if unknown)."""
        try:
            return str(cls.Status(value).label)
        except ValueError:
            return value

    def history_rows(self) -> list[dict]:
        """The history as plain rows for the page, labels in the reader's language."""
        rows = []
        for h in self.history.select_related("user"):
            who = (h.user.get_full_name() or h.user.username) if h.user else h.get_source_display()
            moved = h.from_status != h.to_status
            rows.append({
                "at": h.at, "who": who, "what": self.action_label(h.action),
                "from_status": self.status_label(h.from_status) if moved else "",
                "to_status": self.status_label(h.to_status) if moved else "",
                # A note Kauko wrote reads in the reader's language (kauko.i18n); one from
                # before that was kept, or that a person typed, reads as it was written (a
                # whole catalogue text is still translated).
                "note": i18n_render(h.note_i18n, gettext(h.note) if h.note else ""),
            })
        return rows

    def uses(self, step: str) -> bool:
        """Whether the partner's workflow profile for this side (`profile`, given by each
        request model) allows an optional step.

        Without a profile every step is allowed: a partner set up in a hurry must not
        leave a request stuck.
        """
        profile = self.profile
        return True if profile is None else bool(getattr(profile, f"use_{step}"))


class HistoryEntry(models.Model):
    """Every status change and action on a request: who, when, from which state, and why."""

    borrowing_request = models.ForeignKey("ill.BorrowingRequest", on_delete=models.CASCADE,
                                          null=True, blank=True, related_name="history")
    lending_request = models.ForeignKey("ill.LendingRequest", on_delete=models.CASCADE,
                                        null=True, blank=True, related_name="history")
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    action = models.CharField(max_length=60)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)
    # The note's catalogue text and arguments (kauko.i18n), to show it in each reader's
    # language; empty for what a person typed.
    note_i18n = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        indexes = [
            # Statistics (reports/): a request's first step of a kind after a moment, and
            # the steps of a month.
            models.Index(fields=["borrowing_request", "at"], name="history_borrowing_at_idx"),
            models.Index(fields=["lending_request", "at"], name="history_lending_at_idx"),
            models.Index(fields=["at"], name="history_at_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


def next_number(*, institution, name: str, prefix: str) -> str:
    """Next human-readable number, e.g. OTA-B-2026-000042. Call inside a transaction:
    the counter row is locked so two requests created at once never share a number."""
    counter, _created = Counter.objects.select_for_update().get_or_create(
        institution=institution, name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"{institution.code}-{prefix}-{timezone.localdate():%Y}-{counter.value:06d}"

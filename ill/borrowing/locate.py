"""Locate: which partners in a borrowing request's rota hold what we ask for.

Each partner's catalogue is asked over SRU as its locate profile says (any SRU server, or
"the partner's Kauko", which serves its catalogue at /sru/<code>). The network calls happen
outside any database transaction; the answers are then written on the rota entries in one.

- `locate_in_partner(partner=..., citation=...)` asks one partner and says what it answered.
- `locate_rota(request=..., user=None)` asks every partner still pending in the rota,
  records each answer on its rota entry (locate_outcome, locate_note, located_at), skips
  the partners that answered "not held" (outcome SKIPPED, reason given) and keeps the
  others in their order: a catalogue that did not answer in time, or answered something
  unreadable, is kept, and said. One history entry "Located" sums it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_noop

from ill.borrowing import sru
from ill.models import BorrowingRequest, RotaEntry, Source
from ill.workflow import WorkflowError, update_fields
from kauko.i18n import gettext as _  # history notes read in each reader's language
from partners.models import LocateProfile, Partner

Outcome = RotaEntry.LocateOutcome


@dataclass(frozen=True)
class LocateResult:
    """What one partner's catalogue answered.

    outcome: a RotaEntry.LocateOutcome value (held / not_held / no_answer / unreadable /
    not_configured). available: True when a copy is on the shelf, False when held but none
    is, None when the catalogue does not say. note: one line for staff, in English (kept in
    history as written).
    """

    partner_id: int
    outcome: str
    note: str = ""
    available: bool | None = None
    query: str = ""
    holdings: tuple[sru.HoldingInfo, ...] = field(default_factory=tuple)

    @property
    def held(self) -> bool:
        return self.outcome == Outcome.HELD

    @property
    def skip(self) -> bool:
        """Only a clear "not held" takes a partner out of the rota."""
        return self.outcome == Outcome.NOT_HELD


def citation_of(obj) -> sru.CitationKeys:
    """The identifiers, title and author a locate searches by, from any Citation."""
    return sru.CitationKeys(
        isbn=getattr(obj, "isbn", "") or "", issn=getattr(obj, "issn", "") or "",
        oclc_number=getattr(obj, "oclc_number", "") or "",
        title=getattr(obj, "title", "") or "", author=getattr(obj, "author", "") or "",
    )


def _profile(partner: Partner) -> LocateProfile | None:
    try:
        return partner.locate_profile
    except LocateProfile.DoesNotExist:
        return None


def locate_in_partner(*, partner: Partner, citation) -> LocateResult:
    """Ask one partner's catalogue. Never raises for the partner's faults: a timeout, a
    refused connection, an SRU diagnostic or XML we cannot read each come back as an
    outcome with a note. Makes network calls: do not call inside a transaction."""
    profile = _profile(partner)
    if profile is None or not profile.configured:
        return LocateResult(partner_id=partner.pk, outcome=Outcome.NOT_CONFIGURED,
                            note=gettext_noop("No locate profile."))
    answer = sru.locate(
        base_url=profile.base_url, version=profile.sru_version,
        timeout=profile.timeout_seconds, record_schema=profile.record_schema,
        indexes=sru.Indexes(isbn=profile.isbn_index, issn=profile.issn_index,
                            oclc=profile.oclc_index, title=profile.title_index,
                            author=profile.author_index),
        keys=citation_of(citation),
    )
    return LocateResult(partner_id=partner.pk, outcome=answer.outcome, note=answer.note,
                        available=answer.available, query=answer.query,
                        holdings=answer.holdings)


def locate_rota(*, request: BorrowingRequest, user=None,
                version: int | None = None) -> list[LocateResult]:
    """Ask each pending rota entry's partner and record the answers (see the module doc).

    Only before the request is sent (created, ready, or rejected by the last partner).
    Returns the results in rota order. Entries already asked, supplied, rejected, skipped
    or cancelled are left alone, and so is one that changed while the catalogues were
    asked. Makes network calls first, then writes in one transaction (row lock, version,
    one "Located" history entry): do not call inside a transaction. `user` None means an
    automatic locate (history source "Automatic").
    """
    if request.status not in BorrowingRequest.UNANSWERED:
        raise WorkflowError(_("Partners can be located only before the request is sent."))
    entries = list(request.rota.filter(outcome=RotaEntry.Outcome.PENDING)
                   .select_related("partner__locate_profile").order_by("position"))
    if not entries:
        raise WorkflowError(_("There is no partner left in the rota to locate in."))
    results = [(entry, locate_in_partner(partner=entry.partner, citation=request))
               for entry in entries]
    now = timezone.now()

    def apply(locked):
        if locked.status not in BorrowingRequest.UNANSWERED:
            raise WorkflowError(_("The request was sent while its partners were located."))
        for entry, result in results:
            fields = {"locate_outcome": result.outcome, "locate_note": result.note[:300],
                      "located_at": now}
            if result.skip:
                fields.update(outcome=RotaEntry.Outcome.SKIPPED,
                              reason=_("Not in the partner's catalogue.")[:300])
            # Only a still-pending entry changes: staff may have edited the rota meanwhile.
            RotaEntry.objects.filter(pk=entry.pk, request_id=locked.pk,
                                     outcome=RotaEntry.Outcome.PENDING).update(**fields)
        if locked.status != BorrowingRequest.S.REJECTED:
            first = (RotaEntry.objects.filter(request_id=locked.pk,
                                              outcome=RotaEntry.Outcome.PENDING)
                     .order_by("position").select_related("partner").first())
            locked.partner = first.partner if first else None

    summary = "; ".join(
        f"{entry.partner.code}: {Outcome(result.outcome).label}"
        + (f" ({result.note})" if result.note else "") for entry, result in results)
    update_fields(request=request, user=user, version=version, action="locate",
                  note=_("Located: %(summary)s") % {"summary": summary}, apply=apply,
                  source=Source.STAFF if user else Source.SYSTEM)
    return [result for _entry, result in results]

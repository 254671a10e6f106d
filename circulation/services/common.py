"""What the desk's services share: refusals, scan outcomes, the ILL bridge call, the
row look-ups and locks every step starts with, the scan record."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from circulation.hooks import IllItemInfo, ill_bridge
from circulation.models import DeskScan, Hold, Loan, Transit
from fulfillment.models import (
    CirculationDesk,
    Item,
    Library,
    TermsOfUse,
)
from fulfillment.selectors import terms_of_use_for
from kauko.errors import DomainError
from kauko.formats import money, short_date

logger = logging.getLogger(__name__)

OVERRIDE_PERMISSION = "fulfillment.override_block"
RECENT_SCANS = 20


class DeskError(DomainError):
    """A refusal, with a message fit to show staff (or a patron at self-service) as it is."""

    def __init__(self, message: str, *, problems: list[PatronProblem] | None = None):
        super().__init__(message)
        self.problems = problems or []


class PatronCannotBorrow(DeskError):
    """The patron is blocked, expired or at the loan limit; `problems` says which."""


class Level:
    OK = DeskScan.Level.OK
    ACTION = DeskScan.Level.ACTION
    STOP = DeskScan.Level.STOP


class Outcome:
    """What a scan meant. Stored on `DeskScan.outcome`; tests and templates use these."""

    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    ON_HOLD_SHELF = "on_hold_shelf"
    ALREADY_ON_SHELF = "already_on_shelf"
    SHELVED_ELSEWHERE = "shelved_elsewhere"
    OFFICE_DELIVERY = "office_delivery"
    OFFICE_DELIVERY_HELD = "office_delivery_held"
    TRANSIT_TO_DESK = "transit_to_desk"
    TRANSIT_ELSEWHERE = "transit_elsewhere"
    RETURNED = "returned"
    TRANSIT_TO_RS = "transit_to_rs"
    BACK_AT_RS = "back_at_rs"
    RESHELVE = "reshelve"
    TRANSIT_HOME = "transit_home"
    NOT_RECEIVED = "not_received"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"


# Outcomes that told the partner something or loaned the item: undo cannot take them back.
NOT_UNDOABLE = {Outcome.BACK_AT_RS, Outcome.OFFICE_DELIVERY}


@dataclass(frozen=True)
class PatronProblem:
    code: str  # "blocked", "expired" or "loan_limit"
    message: str


@dataclass
class ScanResult:
    outcome: str
    level: str
    message: str
    details: list[str] = field(default_factory=list)
    item: Item | None = None
    candidates: list[Item] = field(default_factory=list)
    hold: Hold | None = None
    loan: Loan | None = None
    transit: Transit | None = None
    patron: object | None = None
    problems: list[PatronProblem] = field(default_factory=list)
    slip_html: str = ""
    ill: IllItemInfo | None = None
    scan: DeskScan | None = None
    undo: dict = field(default_factory=dict)

    @property
    def may_override(self) -> bool:
        """Offer "loan anyway" (for staff with the override permission)."""
        return bool(self.problems) and self.hold is not None and self.outcome in (
            Outcome.ON_HOLD_SHELF, Outcome.OFFICE_DELIVERY_HELD, Outcome.ALREADY_ON_SHELF)


# --- small helpers ---------------------------------------------------------------------------


def _ill(method: str, **kwargs):
    """Call the ILL bridge. A refusal from ILL (a DomainError such as ill's WorkflowError,
    or any exception carrying a staff-facing `message`) becomes a DeskError: the scan is
    rolled back and staff read why."""
    try:
        return getattr(ill_bridge(), method)(**kwargs)
    except DeskError:
        raise
    except Exception as exc:
        message = getattr(exc, "message", None)
        if isinstance(message, str) and message:
            raise DeskError(message) from exc
        raise


def end_of_day(day: datetime.date) -> datetime.datetime:
    """Loans fall due at the end of the day, in the server's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


def date_label(value) -> str:
    # The same short form every staff screen uses (5.12.2026, 2026-12-05, 12/05/2026).
    return short_date(value, default="")


def _patron_label(patron) -> str:
    return f"{patron.full_name} ({patron.barcode})"


def _item_label(item: Item) -> str:
    return f"{item.bib.title} [{item.primary_barcode}]"


def _terms(item: Item, patron) -> TermsOfUse | None:
    return terms_of_use_for(item=item, patron_group_code=patron.group.code)


def patron_problems(patron, *, today: datetime.date | None = None) -> list[PatronProblem]:
    """Everything that stops this patron borrowing now, each said so staff can act on it."""
    today = today or timezone.localdate()
    problems = []
    for block in patron.active_blocks(today):
        parts = [str(block.get_reason_display())]
        if block.amount_owed:
            parts.append(_("owes %(amount)s") % {"amount": money(block.amount_owed)})
        if block.note and block.note.strip(" .").lower() != parts[0].lower():
            parts.append(block.note)
        if block.until:
            parts.append(_("until %(date)s") % {"date": date_label(block.until)})
        problems.append(PatronProblem("blocked", _("Blocked: %(why)s.") % {
            "why": " – ".join(parts)}))
    if patron.is_expired(today):
        problems.append(PatronProblem("expired", _(
            "Library card expired on %(date)s: renew the card first.") % {
            "date": date_label(patron.expiry_date)}))
    limit = patron.group.loan_limit
    if limit is not None:
        count = Loan.objects.filter(patron=patron, returned_at__isnull=True).count()
        if count >= limit:
            problems.append(PatronProblem("loan_limit", _(
                "At the loan limit: %(count)s items on loan, the %(group)s limit is "
                "%(limit)s. One must be returned first.") % {
                "count": count, "limit": limit, "group": patron.group.name}))
    return problems


def what_staff_can_do(*, on_shelf: bool) -> str:
    if on_shelf:
        return _("What you can do: keep it on the hold shelf and contact the patron; once the "
                 "problem is sorted out, loan it as usual; staff with the override permission "
                 "can loan it anyway.")
    return _("What you can do: contact the patron; staff with the override permission can "
             "loan it anyway.")


# --- finding the item ------------------------------------------------------------------------


def _lock_item(item_id: int) -> Item:
    # Locks the item row only (`of=self`): two desks scanning the same item, or a scan racing
    # a check-out, would otherwise both see it "arriving" and both create a transit or a loan.
    return (Item.objects.select_for_update(of=("self",))
            .select_related("bib", "location__library", "permanent_location__library",
                            "institution")
            .prefetch_related("barcodes").get(pk=item_id))


def _open_loan(item: Item, *, lock=True) -> Loan | None:
    qs = Loan.objects.filter(item=item, returned_at__isnull=True)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("patron__group").first()


def _active_hold(item: Item) -> Hold | None:
    # Locked with the item: a hold shelf expiry job running at the same moment would otherwise
    # expire a hold the desk is loaning.
    return (Hold.objects.select_for_update(of=("self",))
            .filter(item=item, state__in=Hold.ACTIVE_STATES)
            .select_related("patron__group").order_by("created_at").first())


def _open_transit(item: Item) -> Transit | None:
    return (Transit.objects.select_for_update(of=("self",))
            .filter(item=item, ended_at__isnull=True)
            .select_related("to_desk", "to_library").first())


def _rs_library_of(item: Item) -> Library:
    """Where a temporary ILL item belongs: the library of its permanent (incoming) location."""
    return item.permanent_location.library


def _set_item(item: Item, undo: dict, *, status: str, location=None) -> None:
    undo.setdefault("item", {"id": item.pk, "status": item.status,
                             "location_id": item.location_id})
    item.status = status
    if location is not None:
        item.location = location
    item.status_changed_at = timezone.now()
    item.save(update_fields=["status", "location", "status_changed_at"])
    undo["item"]["after_status"] = status


def _remember_hold(hold: Hold, undo: dict) -> None:
    undo.setdefault("hold", {
        "id": hold.pk, "state": hold.state,
        "shelved_at": hold.shelved_at.isoformat() if hold.shelved_at else None,
        "pickup_deadline": hold.pickup_deadline.isoformat() if hold.pickup_deadline else None,
        "closed_at": hold.closed_at.isoformat() if hold.closed_at else None,
        "shelf_desk_id": hold.shelf_desk_id,
    })


def _start_transit(*, item: Item, undo: dict, from_library, reason: str, to_desk=None,
                   to_library=None, to_address="", hold=None) -> Transit:
    transit = Transit.objects.create(
        institution_id=item.institution_id, item=item, from_library=from_library,
        to_desk=to_desk, to_library=to_library or (to_desk.library if to_desk else None),
        to_address=to_address, reason=reason, hold=hold)
    undo.setdefault("transits_created", []).append(transit.pk)
    _set_item(item, undo, status=Item.Status.IN_TRANSIT)
    return transit


def _end_transit(transit: Transit, undo: dict) -> None:
    transit.ended_at = timezone.now()
    transit.save(update_fields=["ended_at"])
    undo.setdefault("transits_ended", []).append(transit.pk)


def _transit_target(transit: Transit) -> str:
    if transit.to_desk_id:
        return str(transit.to_desk)
    if transit.to_library_id:
        return str(transit.to_library)
    return transit.to_address


def _transit_is_for(transit: Transit, desk: CirculationDesk) -> bool:
    if transit.to_desk_id:
        return transit.to_desk_id == desk.pk or (
            transit.reason != Transit.Reason.HOLD and transit.to_desk.library_id == desk.library_id)
    return transit.to_library_id == desk.library_id


# --- the scan record and the recent-scans list -------------------------------------------------


def _record(*, desk, user, barcode: str, result: ScanResult) -> ScanResult:
    undo = result.undo if result.outcome not in NOT_UNDOABLE else {}
    result.scan = DeskScan.objects.create(
        institution_id=desk.institution_id, desk=desk,
        user=user if user is not None and user.pk else None, barcode=barcode[:200],
        item=result.item, outcome=result.outcome, level=result.level,
        message=result.message[:500], details=[str(d) for d in result.details],
        slip_html=result.slip_html, undo=undo)
    return result


def recent_scans(*, desk: CirculationDesk, limit: int = RECENT_SCANS) -> list[DeskScan]:
    return list(DeskScan.objects.filter(desk=desk).select_related("item__bib")
                .order_by("-created_at", "-id")[:limit])

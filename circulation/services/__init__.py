"""Circulation at the desk: scan-in, transit, hold shelf, loans, returns, renewals, undo.

Every service takes keyword arguments and either returns what happened or raises `DeskError`
with a message fit to show staff as it is. Each state change runs in one transaction and
locks the rows it changes first (the comments say which race each lock prevents). Letters go
out only after commit. What ILL needs to hear goes through `fulfillment.hooks.ill_bridge()`;
this module never imports `ill`, `partners` or `patrons`.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from circulation.hooks import IllItemInfo, RenewOutcome, ScanAdvice, ill_bridge
from circulation.letters import letter_context as _letter_context
from circulation.letters import queue_patron_letter
from circulation.models import DeskScan, Hold, Loan, Transit
from fulfillment.models import (
    CirculationDesk,
    Item,
    ItemBarcode,
    Library,
    TermsOfUse,
    normalize_barcode,
)
from fulfillment.selectors import terms_of_use_for

logger = logging.getLogger(__name__)

OVERRIDE_PERMISSION = "fulfillment.override_block"
RECENT_SCANS = 20


class DeskError(Exception):
    """A refusal, with a message fit to show staff (or a patron at self-service) as it is."""

    def __init__(self, message: str, *, problems: list[PatronProblem] | None = None):
        super().__init__(message)
        self.message = message
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
    """Call the ILL bridge. A refusal from ILL (any exception carrying a staff-facing
    `message`, e.g. ill's WorkflowError) becomes a DeskError: the scan is rolled back and
    staff read why."""
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


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return date_format(value, "DATE_FORMAT")  # "Dec. 5, 2026", "5. joulukuuta 2026"


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
            parts.append(_("owes %(amount)s €") % {"amount": block.amount_owed})
        if block.note and block.note.strip(" .").lower() != parts[0].lower():
            parts.append(block.note)
        if block.until:
            parts.append(_("until %(date)s") % {"date": _date(block.until)})
        problems.append(PatronProblem("blocked", _("Blocked: %(why)s.") % {
            "why": " – ".join(parts)}))
    if patron.is_expired(today):
        problems.append(PatronProblem("expired", _(
            "Library card expired on %(date)s: renew the card first.") % {
            "date": _date(patron.expiry_date)}))
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


def render_slip(*, code: str, context: dict, language: str | None = None) -> str:
    """A printable slip (hold slip, return slip) as HTML, from the letter templates."""
    institution = context["institution"]
    try:
        from kauko.letters import render_letter

        rendered = render_letter(institution=institution, code=code,
                                 language=language or institution.default_language,
                                 context=context)
        body = _BODY.search(rendered.html or "")
        return body.group(1).strip() if body else (rendered.html or "")
    except LookupError:  # No letter type or template for it: print the desk's plain slip.
        logger.info("No %s letter for %s: printing the plain slip.", code, institution)
    except Exception:  # A broken institution template must not stop the scan.
        logger.exception("The %s letter of %s failed: printing the plain slip.", code,
                         institution)
    return render_to_string("circulation/slip_fallback.html", {"code": code, **context})


# --- finding the item ------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;|]+")
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)


def resolve_scan(*, institution, barcode: str) -> list[Item]:
    """The items a scan may mean. Normally exactly one (any of an item's barcodes).

    An RFID pad that reads several tags at once sends their ids separated by spaces, commas
    or semicolons: when the whole value is no barcode, each part is tried, and two different
    items mean "ask which one".
    """
    ids = _scan_item_ids(institution=institution, barcode=barcode)
    if not ids:
        return []
    return list(Item.objects.filter(institution=institution, pk__in=ids)
                .select_related("bib", "location__library", "permanent_location__library")
                .prefetch_related("barcodes").order_by("pk"))


def _scan_item_ids(*, institution, barcode: str) -> list[int]:
    """The ids behind `resolve_scan`, in one indexed query for an ordinary scan."""
    value = normalize_barcode(barcode)
    if not value:
        return []
    ids = list(ItemBarcode.objects.filter(institution=institution, barcode=value)
               .values_list("item_id", flat=True))
    if ids:
        return ids
    parts = [normalize_barcode(p) for p in _SEPARATORS.split(barcode.strip()) if p]
    if len(parts) < 2:
        return []
    return sorted(set(ItemBarcode.objects.filter(institution=institution, barcode__in=parts)
                      .values_list("item_id", flat=True)))


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


# --- scan-in ---------------------------------------------------------------------------------


def desk_scan_in(*, desk: CirculationDesk, barcode: str, user, item_id: int | None = None
                 ) -> ScanResult:
    """One scan at the desk's scan-in page: decide what it means, do it, say it.

    Arrivals go on the hold shelf (or office delivery), items for elsewhere go in transit,
    loaned items are returned, ILL items go back to the RS library and, there, back to their
    partner. `item_id` answers the "which one?" of an ambiguous scan.
    """
    scanned = barcode.strip()
    ids = _scan_item_ids(institution=desk.institution_id, barcode=scanned)
    if item_id is not None:
        ids = [i for i in ids if i == item_id]
    if not ids:
        result = ScanResult(Outcome.UNKNOWN, Level.STOP, _(
            "Unknown barcode %(barcode)s: no item of ours carries it.") % {
            "barcode": normalize_barcode(scanned) or "–"}, details=[_(
                "Check the label or scan another barcode on the item (own, partner's, RFID). "
                "Search the catalogue by title to find it; put it aside for the RS office if it "
                "is an ILL item that was never received.")])
        return _record(desk=desk, user=user, barcode=scanned, result=result)
    if len(ids) > 1:
        result = ScanResult(Outcome.AMBIGUOUS, Level.ACTION, _(
            "%(count)s items match this scan: which one is in your hand?") % {
            "count": len(ids)}, details=[_(
                "Pick the item below, or scan it alone away from the other items.")],
            candidates=resolve_scan(institution=desk.institution_id, barcode=scanned))
        return _record(desk=desk, user=user, barcode=scanned, result=result)

    try:
        with transaction.atomic():
            item = _lock_item(ids[0])
            result = _decide(desk=desk, item=item, user=user)
            return _record(desk=desk, user=user, barcode=scanned, result=result)
    except DeskError as refused:  # rolled back: nothing changed, and staff read why
        item = Item.objects.filter(pk=ids[0]).select_related("bib").first()
        result = ScanResult(Outcome.REFUSED, Level.STOP, refused.message, item=item,
                            details=[p.message for p in refused.problems] + [_(
                                "Nothing was changed. Put the item aside and check it.")])
        return _record(desk=desk, user=user, barcode=scanned, result=result)


def _decide(*, desk, item, user) -> ScanResult:
    loan = _open_loan(item)
    if loan is not None:
        return _return_and_route(desk=desk, item=item, loan=loan, user=user)
    undo: dict = {}
    info = _ill("describe_item", item=item) if item.is_temporary else None

    if item.status == Item.Status.ILL_AWAITING:
        return ScanResult(Outcome.NOT_RECEIVED, Level.STOP, _(
            "Not received yet: the RS office must receive this ILL item before the desk can "
            "handle it."), details=[_("Take it to the RS office.")], item=item, ill=info)
    if item.status in (Item.Status.WITH_PARTNER, Item.Status.LOST, Item.Status.WITHDRAWN):
        return ScanResult(Outcome.UNAVAILABLE, Level.STOP, _(
            "This item is recorded as “%(status)s”: it should not be here.") % {
            "status": item.get_status_display()}, details=[_(
                "Put it aside and tell the RS office or a supervisor.")], item=item, ill=info)

    transit = _open_transit(item)
    if transit is not None:
        if not _transit_is_for(transit, desk):
            return ScanResult(Outcome.TRANSIT_ELSEWHERE, Level.ACTION, _(
                "In transit to %(where)s, not to this desk: put it back in the transit bin."
            ) % {"where": _transit_target(transit)}, item=item, transit=transit, ill=info,
                details=[_("In transit since %(date)s.") % {"date": _date(transit.started_at)}])
        _end_transit(transit, undo)

    hold = _active_hold(item)
    if hold is not None:
        return _for_hold(desk=desk, item=item, hold=hold, user=user, undo=undo, info=info)
    if item.is_temporary:
        if desk.library_id == _rs_library_of(item).pk:
            return _back_at_rs(desk=desk, item=item, user=user, undo=undo, info=info)
        return _transit_to_rs(desk=desk, item=item, undo=undo, info=info,
                              message=_("ILL item without a waiting patron: in transit to "
                                        "%(where)s. Put it in the transit bin."))
    return _route_home(desk=desk, item=item, undo=undo)


def _for_hold(*, desk, item, hold, user, undo, info) -> ScanResult:
    patron = hold.patron
    if hold.state == Hold.State.ON_HOLD_SHELF:
        if hold.shelf_desk_id in (desk.pk, None):
            problems = patron_problems(patron)
            return ScanResult(
                Outcome.ALREADY_ON_SHELF, Level.ACTION if problems else Level.OK, _(
                    "Already on the hold shelf for %(patron)s, until %(date)s.") % {
                    "patron": _patron_label(patron), "date": _date(hold.pickup_deadline)},
                item=item, hold=hold, patron=patron, problems=problems, ill=info,
                details=[p.message for p in problems])
        return ScanResult(Outcome.SHELVED_ELSEWHERE, Level.ACTION, _(
            "This item belongs on the hold shelf of %(desk)s (for %(patron)s): take it back "
            "there.") % {"desk": hold.shelf_desk, "patron": _patron_label(patron)},
            item=item, hold=hold, patron=patron, ill=info)
    if hold.office_delivery:
        return _office_delivery(desk=desk, item=item, hold=hold, user=user, undo=undo,
                                info=info)
    if hold.pickup_desk_id in (None, desk.pk):
        return _shelve(desk=desk, item=item, hold=hold, user=user, undo=undo, info=info)
    pickup = CirculationDesk.objects.select_related("library").get(pk=hold.pickup_desk_id)
    if not pickup.has_hold_shelf:
        return _shelve(desk=desk, item=item, hold=hold, user=user, undo=undo, info=info)
    _remember_hold(hold, undo)
    if hold.state == Hold.State.WAITING:
        hold.send_in_transit()
        hold.save()
    transit = _start_transit(item=item, undo=undo, from_library=desk.library,
                             reason=Transit.Reason.HOLD, to_desk=pickup, hold=hold)
    return ScanResult(Outcome.TRANSIT_TO_DESK, Level.OK, _(
        "In transit to %(desk)s (%(library)s): put it in the transit bin.") % {
        "desk": pickup.name, "library": pickup.library.name},
        details=[_("Waiting there for %(patron)s.") % {"patron": _patron_label(patron)}],
        item=item, hold=hold, transit=transit, patron=patron, ill=info, undo=undo)


def _shelve(*, desk, item, hold, user, undo, info, outcome=Outcome.ON_HOLD_SHELF,
            problems=None) -> ScanResult:
    """Put the item on this desk's hold shelf for the hold's patron."""
    patron = hold.patron
    terms = _terms(item, patron)
    days = terms.pickup_days if terms is not None else desk.pickup_days
    _remember_hold(hold, undo)
    hold.put_on_shelf()
    hold.shelved_at = timezone.now()
    hold.pickup_deadline = timezone.localdate() + datetime.timedelta(days=days)
    hold.shelf_desk = desk
    hold.save()
    _set_item(item, undo, status=Item.Status.ON_HOLD_SHELF)
    if item.is_temporary:
        _ill("item_arrived_at_desk", item=item, hold=hold, desk=desk, user=user)
    context = _letter_context(item=item, patron=patron, desk=desk, hold=hold, info=info)
    if problems is None:
        problems = patron_problems(patron)
    slip = render_slip(code="hold_slip", context=context)
    details = []
    if outcome == Outcome.ON_HOLD_SHELF:
        notified = queue_patron_letter(code="hold_arrival_notice", hold=hold, user=user)
        if problems:
            message = _("On the hold shelf for %(patron)s until %(date)s – but %(name)s cannot "
                        "borrow it now (see why below).") % {
                "patron": _patron_label(patron), "date": _date(hold.pickup_deadline),
                "name": patron.full_name}
        else:
            message = _("On the hold shelf for %(patron)s: pick up by %(date)s.") % {
                "patron": _patron_label(patron), "date": _date(hold.pickup_deadline)}
        details.append(_("Arrival notice sent to %(email)s.") % {"email": patron.email}
                       if notified else
                       _("No e-mail address: phone the patron (%(phone)s).") % {
                           "phone": patron.phone or "–"})
    else:
        # The patron asked for internal mail, not a trip to this desk: no arrival notice,
        # staff contact them about what stops the loan.
        message = _("Do not put it in internal mail: %(patron)s cannot borrow it now. Keep it "
                    "on the hold shelf of %(desk)s.") % {
            "patron": _patron_label(patron), "desk": desk.name}
        details.append(_("No arrival notice was sent: contact the patron (%(contact)s).") % {
            "contact": patron.email or patron.phone or "–"})
    if context["desk_pickup_only"]:
        details.append(_("Desk pickup only (international loan): no self-service; the slip "
                         "says so."))
    details.extend(p.message for p in problems)
    if problems:
        details.append(what_staff_can_do(on_shelf=True))
    level = Level.OK if not problems else (
        Level.STOP if outcome == Outcome.OFFICE_DELIVERY_HELD else Level.ACTION)
    return ScanResult(outcome, level, message, details=details, item=item, hold=hold,
                      patron=patron, problems=problems, slip_html=slip, ill=info, undo=undo)


def _office_delivery(*, desk, item, hold, user, undo, info) -> ScanResult:
    """Office delivery skips the hold shelf: loan now and send by internal mail, unless the
    patron cannot borrow: then the item stays here, on this desk's hold shelf, findable."""
    patron = hold.patron
    problems = patron_problems(patron)
    address = hold.delivery_address or (info.office_delivery_address if info else "") or \
        patron.office_address
    if problems or not address:
        if not address:
            problems = [*problems, PatronProblem("no_address", _(
                "No office delivery address on the request or the patron."))]
        return _shelve(desk=desk, item=item, hold=hold, user=user, undo=undo, info=info,
                       outcome=Outcome.OFFICE_DELIVERY_HELD, problems=problems)
    loan = _make_loan(desk=desk, item=item, patron=patron, hold=hold, user=user,
                      arrived=True)
    Transit.objects.create(
        institution_id=item.institution_id, item=item, from_library=desk.library,
        to_address=address, reason=Transit.Reason.OFFICE_DELIVERY, hold=hold,
        ended_at=timezone.now())
    context = _letter_context(item=item, patron=patron, desk=desk, hold=hold, loan=loan,
                              info=info, office_delivery_address=address)
    slip = render_slip(code="hold_slip", context=context)
    return ScanResult(Outcome.OFFICE_DELIVERY, Level.OK, _(
        "Office delivery: put it in internal mail to %(address)s.") % {"address": address},
        details=[_("Loaned to %(patron)s, due %(date)s.") % {
            "patron": _patron_label(patron), "date": _date(loan.due_at)}],
        item=item, hold=hold, loan=loan, patron=patron, slip_html=slip, ill=info)


def _transit_to_rs(*, desk, item, undo, info, message: str, details=()) -> ScanResult:
    rs = _rs_library_of(item)
    transit = _start_transit(item=item, undo=undo, from_library=desk.library,
                             reason=Transit.Reason.RETURN_TO_RS, to_library=rs)
    return ScanResult(Outcome.TRANSIT_TO_RS, Level.OK, message % {"where": rs.name},
                      details=list(details), item=item, transit=transit, ill=info, undo=undo)


def _back_at_rs(*, desk, item, user, undo, info, details=()) -> ScanResult:
    """The ILL item is back at the RS library: ILL says what to do (return it to its
    partner, print the return slip)."""
    _set_item(item, undo, status=Item.Status.IN_PLACE, location=item.permanent_location)
    advice: ScanAdvice | None = _ill("item_back_at_rs_library", item=item, user=user)
    if advice is None:
        return ScanResult(Outcome.BACK_AT_RS, Level.ACTION, _(
            "Back at %(library)s, but no borrowing request is waiting for it: keep it in the "
            "incoming location and check the request.") % {"library": desk.library.name},
            details=list(details), item=item, ill=info)
    slip = ""
    if advice.slip_code:
        context = _letter_context(item=item, patron=None, desk=desk, info=info)
        context.update(advice.slip_context)
        slip = render_slip(code=advice.slip_code, context=context)
    return ScanResult(Outcome.BACK_AT_RS, advice.level, advice.message, details=list(details),
                      item=item, slip_html=slip, ill=info)


def _route_home(*, desk, item, undo, details=()) -> ScanResult:
    home = item.permanent_location
    if home.library_id == desk.library_id:
        _set_item(item, undo, status=Item.Status.IN_PLACE, location=home)
        return ScanResult(Outcome.RESHELVE, Level.OK, _(
            "Put it back on the shelf: %(location)s, %(call_number)s.") % {
            "location": home.name, "call_number": item.call_number or "–"},
            details=list(details), item=item, undo=undo)
    transit = _start_transit(item=item, undo=undo, from_library=desk.library,
                             reason=Transit.Reason.RETURN_HOME, to_library=home.library)
    return ScanResult(Outcome.TRANSIT_HOME, Level.OK, _(
        "In transit to %(library)s: put it in the transit bin.") % {
        "library": home.library.name}, details=list(details), item=item, transit=transit,
        undo=undo)


# --- loans -----------------------------------------------------------------------------------


def _check_loanable(*, desk, item, patron, hold, terms, self_service) -> None:
    if item.status in (Item.Status.ILL_AWAITING, Item.Status.WITH_PARTNER, Item.Status.LOST,
                       Item.Status.MISSING, Item.Status.WITHDRAWN, Item.Status.DAMAGED,
                       Item.Status.RESOURCE_SHARING):
        raise DeskError(_("This item is “%(status)s” and cannot be loaned.") % {
            "status": item.get_status_display()})
    if item.is_temporary and hold is None:
        raise DeskError(_("This ILL item was borrowed for another patron, or its request has "
                          "ended: it cannot be loaned to %(patron)s.") % {
            "patron": _patron_label(patron)})
    if hold is not None and hold.patron_id != patron.pk:
        if self_service:  # never tell one patron who another is waiting for
            raise DeskError(_("This item is reserved for someone else: please ask at the "
                              "desk."))
        raise DeskError(_("This item is on hold for another patron (%(patron)s): it cannot be "
                          "loaned to this one.") % {"patron": _patron_label(hold.patron)})
    home = item.permanent_location.library
    if home.is_rs_library and not home.other_desks_may_loan and desk.library_id != home.pk:
        raise DeskError(_("Items of %(library)s are loaned only at its own desk.") % {
            "library": home.name})
    if terms is None:
        raise DeskError(_("No terms of use apply to this item for the patron's group: a "
                          "configuration admin must add a fulfillment unit rule."))
    if terms.loan_period_days == 0:
        raise DeskError(_("Library use only: this item is not for loan (%(terms)s).") % {
            "terms": terms.name})
    if self_service:
        if hold is not None and hold.desk_pickup_only:
            raise DeskError(_("Desk pickup only (international loan): please borrow this "
                              "item at the desk."))
        if not terms.self_service_allowed:
            raise DeskError(_("This item cannot be borrowed at self-service: please borrow it "
                              "at the desk."))


def _make_loan(*, desk, item, patron, hold, user, override_reason="", self_service=False,
               arrived=False, terms=None) -> Loan:
    """Create the loan (rows already locked and checked)."""
    terms = terms or _terms(item, patron)
    if terms is None:
        raise DeskError(_("No terms of use apply to this item for the patron's group: a "
                          "configuration admin must add a fulfillment unit rule."))
    due = _ill("loan_due_date", item=item, patron=patron) if item.is_temporary else None
    if due is None:
        due = end_of_day(timezone.localdate() + datetime.timedelta(days=terms.loan_period_days))
    if not arrived:
        transit = _open_transit(item)
        if transit is not None:  # Loaned straight from the transit bin: it has arrived.
            transit.ended_at = timezone.now()
            transit.save(update_fields=["ended_at"])
    loan = Loan.objects.create(
        institution_id=item.institution_id, patron=patron, item=item, desk=desk,
        terms_of_use=terms, due_at=due, is_ill=item.is_temporary, self_service=self_service,
        overridden_by=user if override_reason and user is not None and user.pk else None,
        override_reason=override_reason[:300])
    item.status = Item.Status.LOANED
    item.status_changed_at = timezone.now()
    item.save(update_fields=["status", "status_changed_at"])
    if hold is not None:
        if hold.state == Hold.State.WAITING and item.is_temporary:
            _ill("item_arrived_at_desk", item=item, hold=hold, desk=desk, user=user)
        hold.mark_loaned()
        hold.closed_at = timezone.now()
        hold.save()
    if loan.is_ill:
        _ill("item_loaned", loan=loan, user=user)
    return loan


def loan_item(*, desk: CirculationDesk, patron, item: Item, user, override: bool = False,
              self_service: bool = False) -> Loan:
    """Check out: loan the item to the patron at this desk.

    Refuses with `PatronCannotBorrow` (which lists every problem) when the patron is blocked,
    expired or at the loan limit, unless `override` and the user has the override permission.
    An ILL item's due date is its borrowing request's patron due date (asked of ILL).
    """
    with transaction.atomic():
        item = _lock_item(item.pk)
        # Lock the patron too: two desks loaning to one patron at the same moment would both
        # pass the loan limit check.
        patron = (type(patron).objects.select_for_update(of=("self",))
                  .select_related("group").get(pk=patron.pk))
        if patron.institution_id != desk.institution_id:
            raise DeskError(_("This patron belongs to another institution."))
        existing = _open_loan(item)
        if existing is not None:
            if existing.patron_id == patron.pk:
                raise DeskError(_("Already on loan to this patron, due %(date)s.") % {
                    "date": _date(existing.due_at)})
            raise DeskError(_("Already on loan to another patron (due %(date)s): check it in "
                              "first.") % {"date": _date(existing.due_at)})
        hold = _active_hold(item)
        terms = _terms(item, patron)
        _check_loanable(desk=desk, item=item, patron=patron, hold=hold, terms=terms,
                        self_service=self_service)
        problems = patron_problems(patron)
        override_reason = ""
        if problems:
            if not override:
                raise PatronCannotBorrow(
                    _("%(patron)s cannot borrow now.") % {"patron": _patron_label(patron)},
                    problems=problems)
            if self_service or user is None or not user.has_perm(OVERRIDE_PERMISSION):
                raise PatronCannotBorrow(
                    _("Only staff with the override permission can loan to %(patron)s now.")
                    % {"patron": _patron_label(patron)}, problems=problems)
            override_reason = " ".join(p.message for p in problems)
        return _make_loan(desk=desk, item=item, patron=patron, hold=hold, user=user,
                          override_reason=override_reason, self_service=self_service,
                          terms=terms)


def _return_and_route(*, desk, item, loan, user, details=(), self_service=False
                      ) -> ScanResult:
    undo: dict = {"loan_returned": loan.pk}
    loan.returned_at = timezone.now()
    loan.returned_desk = desk
    loan.save(update_fields=["returned_at", "returned_desk"])
    transit = _open_transit(item)
    if transit is not None:  # e.g. the office-delivery mail record
        _end_transit(transit, undo)
    info = None
    patron = loan.patron
    details = [_("Returned by %(patron)s.") % {"patron": _patron_label(patron)}, *details]
    if loan.is_ill:
        _ill("item_returned", loan=loan, desk=desk, user=user)
        info = _ill("describe_item", item=item)
        undo["bridge_outcome"] = Outcome.RETURNED
        if desk.library_id == _rs_library_of(item).pk:
            result = _back_at_rs(desk=desk, item=item, user=user, undo=undo, info=info,
                                 details=details)
        else:
            result = _transit_to_rs(desk=desk, item=item, undo=undo, info=info, details=details,
                                    message=_("Returned ILL item: in transit to %(where)s. "
                                              "Put it in the transit bin."))
            result.outcome = Outcome.RETURNED
    else:
        hold = _active_hold(item)
        if hold is not None:
            result = _for_hold(desk=desk, item=item, hold=hold, user=user, undo=undo, info=None)
            result.details = [*details, *result.details]
        else:
            result = _route_home(desk=desk, item=item, undo=undo, details=details)
    result.loan = loan
    result.patron = result.patron or patron
    return result


def return_item(*, desk: CirculationDesk, item: Item, user, self_service: bool = False
                ) -> ScanResult:
    """Check in: the patron returns the item here. Says where it goes next (transit to the
    RS library for ILL items, the shelf or its home library for own items)."""
    with transaction.atomic():
        item = _lock_item(item.pk)
        loan = _open_loan(item)
        if loan is None:
            raise DeskError(_("This item is not on loan: use the scan-in page to route it."))
        if self_service:
            terms = loan.terms_of_use
            desk_only = Hold.objects.filter(item=item, state=Hold.State.LOANED,
                                            desk_pickup_only=True).exists()
            if desk_only or (terms is not None and not terms.self_service_allowed):
                raise DeskError(_("Please return this item at the desk."))
        result = _return_and_route(desk=desk, item=item, loan=loan, user=user)
        return _record(desk=desk, user=user, barcode=item.primary_barcode, result=result)


# --- renewals --------------------------------------------------------------------------------


def renewal_refusal(*, loan: Loan, by_patron: bool, today: datetime.date | None = None
                    ) -> str | None:
    """Why this loan may not be renewed now, or None. The same rules for ILL loans: the
    renewal window (for patrons), the maximum count and the maximum total loan days."""
    today = today or timezone.localdate()
    if loan.returned_at is not None:
        return _("This loan has ended.")
    blocks = loan.patron.active_blocks(today)
    if blocks and by_patron:
        return _("Your account is blocked (%(why)s): please contact the library.") % {
            "why": blocks[0].get_reason_display()}
    return terms_renewal_refusal(
        loan.terms_of_use, renewals=loan.renewals, by_patron=by_patron, today=today,
        started=timezone.localtime(loan.loaned_at).date(),
        due=timezone.localtime(loan.due_at).date())


def terms_renewal_refusal(terms: TermsOfUse | None, *, renewals: int,
                          started: datetime.date | None, due: datetime.date | None,
                          by_patron: bool, today: datetime.date) -> str | None:
    """What the terms of use say against one more renewal, or None. The one place for these
    rules: the desk asks it for a loan, ILL for a borrowing request (before asking the
    partner), so an ILL renewal can never slip past the limits an ordinary loan has."""
    if terms is None:
        return None
    if not terms.renewable:
        return _("This loan is not renewable.")
    if terms.max_renewals is not None and renewals >= terms.max_renewals:
        return _("Renewed %(n)s times already: the most these terms of use allow.") % {
            "n": renewals}
    if terms.max_total_loan_days and started and due:
        if (due - started).days >= terms.max_total_loan_days:
            return _("The loan has reached the longest time it may run (%(days)s days from "
                     "%(date)s).") % {"days": terms.max_total_loan_days, "date": _date(started)}
    if by_patron and terms.renewal_window_days is not None and due:
        opens = due - datetime.timedelta(days=terms.renewal_window_days)
        if today < opens:
            return _("Renewal opens on %(date)s (%(days)s days before the due date).") % {
                "date": _date(opens), "days": terms.renewal_window_days}
    return None


def renew_loan(*, loan: Loan, user, by_patron: bool = False,
               today: datetime.date | None = None) -> RenewOutcome:
    """Renew a loan. An ILL loan is renewed through its borrowing request (the bridge), never
    as an ordinary renewal; both are refused outside the window and past the maximum."""
    with transaction.atomic():
        # Lock the loan: a patron's click and the auto-renew job must not renew it twice.
        loan = (Loan.objects.select_for_update(of=("self",))
                .select_related("terms_of_use", "patron__group", "item__bib").get(pk=loan.pk))
        refusal = renewal_refusal(loan=loan, by_patron=by_patron, today=today)
        if refusal:
            raise DeskError(refusal)
        if loan.is_ill:
            outcome = _ill("renew_ill_loan", loan=loan, user=user, by_patron=by_patron)
            if outcome.state == RenewOutcome.REFUSED:
                raise DeskError(outcome.message)
            if outcome.state == RenewOutcome.GRANTED and outcome.new_due_at:
                loan.due_at = outcome.new_due_at
                loan.renewals += 1
            else:
                loan.renewal_requested_at = timezone.now()
            loan.save(update_fields=["due_at", "renewals", "renewal_requested_at"])
            return outcome
        terms = loan.terms_of_use
        period = terms.loan_period_days if terms else 28
        start = max(timezone.localdate(), timezone.localtime(loan.due_at).date())
        new_due = start + datetime.timedelta(days=period)
        if terms is not None and terms.max_total_loan_days:
            limit = (timezone.localtime(loan.loaned_at).date()
                     + datetime.timedelta(days=terms.max_total_loan_days))
            new_due = min(new_due, limit)
        loan.due_at = end_of_day(new_due)
        loan.renewals += 1
        loan.save(update_fields=["due_at", "renewals"])
        return RenewOutcome(RenewOutcome.GRANTED, _("Renewed: now due %(date)s.") % {
            "date": _date(new_due)}, new_due_at=loan.due_at)


# --- undo and the recent-scans list ----------------------------------------------------------


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


def undo_last_scan(*, desk: CirculationDesk, user) -> DeskScan:
    """Undo the desk's last scan: the item, its hold, transit and loan go back to how they
    were. Refused when the scan cannot be taken back (the item was loaned or returned to its
    partner) or when the item has been scanned again since."""
    with transaction.atomic():
        # Lock the scan row: two clicks on "undo" must not undo twice.
        scan = (DeskScan.objects.select_for_update(of=("self",)).filter(desk=desk)
                .order_by("-created_at", "-id").first())
        if scan is None:
            raise DeskError(_("Nothing to undo at this desk."))
        if scan.undone_at is not None:
            raise DeskError(_("The last scan (%(barcode)s) was already undone.") % {
                "barcode": scan.barcode})
        if not scan.undo:
            raise DeskError(_("The last scan (%(barcode)s) changed nothing that undo can take "
                              "back. %(hint)s") % {"barcode": scan.barcode, "hint": _(
                "A loan is ended by checking the item in.") if scan.outcome in NOT_UNDOABLE
                else ""})
        data = scan.undo
        item = _lock_item(data["item"]["id"]) if "item" in data else None
        if item is not None and item.status != data["item"].get("after_status", item.status):
            raise DeskError(_("The item has changed since (it is now “%(status)s”): undo is "
                              "not possible.") % {"status": item.get_status_display()})
        if item is not None and DeskScan.objects.filter(
                item=item, created_at__gt=scan.created_at, undone_at__isnull=True).exclude(
                pk=scan.pk).exists():
            raise DeskError(_("The item was scanned again since: undo is not possible."))
        for transit_id in data.get("transits_created", []):
            Transit.objects.filter(pk=transit_id).delete()
        for transit_id in data.get("transits_ended", []):
            Transit.objects.filter(pk=transit_id).update(ended_at=None)
        if "loan_returned" in data:
            Loan.objects.filter(pk=data["loan_returned"]).update(returned_at=None,
                                                                 returned_desk=None)
        if "hold" in data:
            h = data["hold"]
            # The state field is protected (transitions only); undo restores it verbatim.
            Hold.objects.filter(pk=h["id"]).update(
                state=h["state"], shelved_at=h["shelved_at"], closed_at=h["closed_at"],
                pickup_deadline=h["pickup_deadline"], shelf_desk_id=h["shelf_desk_id"])
        if item is not None:
            Item.objects.filter(pk=item.pk).update(
                status=data["item"]["status"], location_id=data["item"]["location_id"],
                status_changed_at=timezone.now())
            if item.is_temporary:
                _ill("scan_undone", item=item, outcome=scan.outcome, user=user)
        scan.undone_at = timezone.now()
        scan.save(update_fields=["undone_at"])
    return scan


# --- pickup (called by ILL when the RS office receives an item) ------------------------------


def send_item_to_pickup(*, item: Item, hold: Hold, user) -> Transit:
    """The RS office received the item: it goes in transit to the hold's pickup desk (for
    office delivery without a pickup desk: to the RS library's own desk, which sends it by
    internal mail when scanned)."""
    with transaction.atomic():
        item = _lock_item(item.pk)
        # Lock the hold: the patron cancelling at the same moment must not leave a transit
        # for a cancelled hold.
        hold = Hold.objects.select_for_update(of=("self",)).select_related(
            "pickup_desk__library").get(pk=hold.pk)
        if not hold.is_active:
            raise DeskError(_("The patron's hold is “%(state)s”: the item has no pickup to go "
                              "to.") % {"state": hold.get_state_display()})
        rs = item.location.library
        desk = hold.pickup_desk
        if desk is None:
            desk = CirculationDesk.objects.filter(library=rs).order_by("pk").first()
        if desk is None:
            raise DeskError(_("The hold has no pickup desk and %(library)s has no desk: choose "
                              "a pickup desk on the request.") % {"library": rs.name})
        existing = _open_transit(item)
        if existing is not None:
            existing.ended_at = timezone.now()
            existing.save(update_fields=["ended_at"])
        if hold.state == Hold.State.WAITING:
            hold.send_in_transit()
            hold.save()
        undo: dict = {}
        return _start_transit(item=item, undo=undo, from_library=rs,
                              reason=Transit.Reason.OFFICE_DELIVERY if hold.office_delivery
                              else Transit.Reason.HOLD, to_desk=desk, hold=hold)


# --- reports ---------------------------------------------------------------------------------


@dataclass
class LongLoan:
    loan: Loan
    days: int  # from the loan date to the due date
    limit_days: int | None
    renewals_left: int | None

    @property
    def at_limit(self) -> bool:
        return (self.limit_days is not None and self.days >= self.limit_days) or \
            self.renewals_left == 0


def long_running_ill_loans(*, institution, min_days: int = 56) -> list[LongLoan]:
    """Open ILL loans that have run long: at least `min_days` from the loan date to the due
    date, or at their terms' maximum (renewals or total days). Alma lets ILL renewals run
    for ever; here staff see them."""
    rows = []
    loans = (Loan.objects.filter(institution=institution, is_ill=True, returned_at__isnull=True)
             .select_related("patron", "item__bib", "terms_of_use").order_by("loaned_at"))
    for loan in loans:
        terms = loan.terms_of_use
        days = (timezone.localtime(loan.due_at).date()
                - timezone.localtime(loan.loaned_at).date()).days
        row = LongLoan(loan=loan, days=days,
                       limit_days=terms.max_total_loan_days if terms else None,
                       renewals_left=(max(terms.max_renewals - loan.renewals, 0)
                                      if terms and terms.max_renewals is not None else None))
        if days >= min_days or row.at_limit:
            rows.append(row)
    return rows

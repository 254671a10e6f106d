"""Scan-in at a desk: what the scanned item needs next (hold shelf, transit, office
delivery, back home or to the RS office), returns, and undo of the last scan."""

from __future__ import annotations

import datetime
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circulation.hooks import ScanAdvice
from circulation.letters import letter_context as _letter_context
from circulation.letters import queue_patron_letter
from circulation.models import DeskScan, Hold, Loan, Transit
from circulation.services.common import (
    NOT_UNDOABLE,
    DeskError,
    Level,
    Outcome,
    PatronProblem,
    ScanResult,
    _active_hold,
    _end_transit,
    _ill,
    _lock_item,
    _open_loan,
    _open_transit,
    _patron_label,
    _record,
    _remember_hold,
    _rs_library_of,
    _set_item,
    _start_transit,
    _terms,
    _transit_is_for,
    _transit_target,
    date_label,
    patron_problems,
    what_staff_can_do,
)
from circulation.services.loans import _make_loan
from circulation.slips import render_slip
from fulfillment.models import (
    CirculationDesk,
    Item,
    ItemBarcode,
    normalize_barcode,
)

_SEPARATORS = re.compile(r"[\s,;|]+")


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
                details=[_("In transit since %(date)s.") % {"date": date_label(transit.started_at)}])
        _end_transit(transit, undo)

    hold = _active_hold(item)
    if hold is not None:
        return _for_hold(desk=desk, item=item, hold=hold, user=user, undo=undo, info=info)
    if item.is_temporary:
        if desk.library_id == _rs_library_of(item).pk:
            return _back_at_rs(desk=desk, item=item, user=user, undo=undo, info=info)
        # Why its hold ended (the partner recalled it, the request closed), if ILL said.
        ended = (item.holds.exclude(state__in=Hold.ACTIVE_STATES).exclude(note="")
                 .order_by("-closed_at").values_list("note", flat=True).first())
        return _transit_to_rs(desk=desk, item=item, undo=undo, info=info,
                              message=_("ILL item without a waiting patron: in transit to "
                                        "%(where)s. Put it in the transit bin."),
                              details=[ended] if ended else ())
    return _route_home(desk=desk, item=item, undo=undo)


def _for_hold(*, desk, item, hold, user, undo, info) -> ScanResult:
    patron = hold.patron
    if hold.state == Hold.State.ON_HOLD_SHELF:
        if hold.shelf_desk_id in (desk.pk, None):
            problems = patron_problems(patron)
            return ScanResult(
                Outcome.ALREADY_ON_SHELF, Level.ACTION if problems else Level.OK, _(
                    "Already on the hold shelf for %(patron)s, until %(date)s.") % {
                    "patron": _patron_label(patron), "date": date_label(hold.pickup_deadline)},
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
    # The routing slip: the hold slip naming the pickup desk travels with the item.
    slip = render_slip(code="hold_slip", institution=item.institution, context=_letter_context(
        item=item, patron=patron, desk=pickup, hold=hold, info=info))
    return ScanResult(Outcome.TRANSIT_TO_DESK, Level.OK, _(
        "In transit to %(desk)s (%(library)s): put it in the transit bin.") % {
        "desk": pickup.name, "library": pickup.library.name},
        details=[_("Waiting there for %(patron)s.") % {"patron": _patron_label(patron)}],
        item=item, hold=hold, transit=transit, patron=patron, ill=info, undo=undo,
        slip_html=slip)


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
    slip = render_slip(code="hold_slip", institution=item.institution, context=context)
    details = []
    if outcome == Outcome.ON_HOLD_SHELF:
        notified = queue_patron_letter(code="hold_arrival_notice", hold=hold, user=user,
                                       context=context)
        if problems:
            message = _("On the hold shelf for %(patron)s until %(date)s – but %(name)s cannot "
                        "borrow it now (see why below).") % {
                "patron": _patron_label(patron), "date": date_label(hold.pickup_deadline),
                "name": patron.full_name}
        else:
            message = _("On the hold shelf for %(patron)s: pick up by %(date)s.") % {
                "patron": _patron_label(patron), "date": date_label(hold.pickup_deadline)}
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
    slip = render_slip(code="hold_slip", institution=item.institution, context=context)
    notified = queue_patron_letter(code="office_delivery_notice", hold=hold, user=user,
                                   context=context)
    return ScanResult(Outcome.OFFICE_DELIVERY, Level.OK, _(
        "Office delivery: put it in internal mail to %(address)s.") % {"address": address},
        details=[_("Handed over to %(patron)s to keep (a copy).") % {
            "patron": _patron_label(patron)} if item.patron_keeps else
            _("Loaned to %(patron)s, due %(date)s.") % {
            "patron": _patron_label(patron), "date": date_label(loan.due_at)},
            _("The patron was told it is on its way (%(email)s).") % {"email": patron.email}
            if notified else _("No e-mail address: the patron was not told.")],
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
        slip = render_slip(code=advice.slip_code, institution=item.institution,
                           context=context)
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

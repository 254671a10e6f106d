"""Rows other apps ask the desk to change: ILL's temporary items, their holds, pickups and
loans. A row belongs to its app: ILL never writes items, holds or loans itself, it calls
these (each says which lock it takes and why)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circulation.models import Hold, Loan, Transit
from circulation.services.common import DeskError, _lock_item, _open_transit, _start_transit
from fulfillment.models import BibRecord, CirculationDesk, Holding, Item, ItemBarcode

# What a temporary item's hidden record may carry from the request's citation.
TEMPORARY_RECORD_FIELDS = ("title", "author", "isbn", "issn", "oclc_number", "doi",
                           "publisher", "year", "edition")


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


# --- items ------------------------------------------------------------------------------------


def item_lock(*, item_id: int) -> Item:
    """The item's row, locked until the caller's transaction ends: a desk loan or scan of
    the same item at the same moment waits, then sees what the caller made of it."""
    return _lock_item(item_id)


def item_set_status(*, item: Item, status: str, location=None) -> Item:
    """Give a locked item (`item_lock`) a new status and, if given, a current location."""
    item.status = status
    fields = ["status", "status_changed_at"]
    if location is not None:
        item.location = location
        fields.append("location")
    item.status_changed_at = timezone.now()
    item.save(update_fields=fields)
    return item


def item_add_barcode(*, item: Item, barcode: str, kind: str = ItemBarcode.Kind.PARTNER):
    """Give the item one more barcode (e.g. the lending partner's label); nothing happens
    when it carries that barcode already."""
    return ItemBarcode.objects.get_or_create(
        institution_id=item.institution_id, barcode=barcode,
        defaults={"item": item, "kind": kind})[0]


# --- ILL's temporary items --------------------------------------------------------------------


def temporary_item_create(*, institution, location, description: str, record: dict,
                          patron_keeps: bool = False) -> Item:
    """A hidden record, a holding and an item awaited from a partner, in `location` (the RS
    library's incoming location). `record` holds the citation (TEMPORARY_RECORD_FIELDS).
    `patron_keeps`: a paper copy, handed over for good (no loan to return). New rows:
    nothing to lock."""
    bib = BibRecord.objects.create(institution=institution, hidden=True, **{
        name: record.get(name, "") for name in TEMPORARY_RECORD_FIELDS})
    holding = Holding.objects.create(institution=institution, bib=bib, location=location)
    return Item.objects.create(
        institution=institution, holding=holding, bib=bib, location=location,
        permanent_location=location, status=Item.Status.ILL_AWAITING, is_temporary=True,
        description=description, patron_keeps=patron_keeps)


def temporary_item_describe(*, item_id: int, record: dict) -> None:
    """The request's citation was edited: the temporary item's hidden record follows. One
    UPDATE, no lock: the record is the request's own copy of its citation."""
    BibRecord.objects.filter(items=item_id).update(
        **{name: value for name, value in record.items() if name in TEMPORARY_RECORD_FIELDS})


def temporary_item_remove(*, item: Item | None, hold: Hold | None) -> bool:
    """The request ended before the item came: its hold is cancelled and, if the item was
    only awaited, the hidden record, holding, item and hold go away (returns True then)."""
    if hold is not None and hold.is_active:
        hold.cancel()
        hold.closed_at = timezone.now()
        hold.save()
    if item is not None and item.status in (Item.Status.ILL_AWAITING,):
        bib = item.bib
        if hold is not None:
            hold.delete()
        bib.delete()  # cascades to holding, item, barcodes
        return True
    return False


def item_set_not_for_loan(*, item: Item, reason: str) -> Item:
    """Mark a locked item (`item_lock`) not for home loan, saying why (empty: loanable
    again). The desk refuses a home loan of it and says the reason."""
    item.not_for_loan_reason = reason[:300]
    item.save(update_fields=["not_for_loan_reason"])
    return item


def temporary_item_place(*, item_id: int, location=None, item_policy: str = "") -> Item:
    """A temporary item rule chose where the received item lives and its item policy (the
    terms of use follow from them). `location` None: it stays where it is. Locked like any
    change of the item."""
    item = _lock_item(item_id)
    fields = ["item_policy"]
    item.item_policy = item_policy
    if location is not None and location.pk != item.location_id:
        item.location = item.permanent_location = location
        fields += ["location", "permanent_location"]
        Holding.objects.filter(pk=item.holding_id).update(location=location)
    item.save(update_fields=fields)
    return item


def temporary_item_to_pickup(*, item_id: int, hold_id: int, desk_pickup_only: bool,
                             user, not_for_loan: str = "") -> Transit:
    """The RS office received the awaited item: it is in place, its hold says whether it is
    for desk pickup only, `not_for_loan` (if given) why it may not go home, and it goes in
    transit to the pickup desk. Item and hold are locked first, so a scan of the item or the
    patron cancelling waits for this."""
    item = _lock_item(item_id)
    item.status = Item.Status.IN_PLACE
    item.not_for_loan_reason = not_for_loan[:300]
    item.save(update_fields=["status", "not_for_loan_reason"])
    hold = Hold.objects.select_for_update().get(pk=hold_id)
    hold.desk_pickup_only = desk_pickup_only
    hold.save(update_fields=["desk_pickup_only"])
    return send_item_to_pickup(item=item, hold=hold, user=user)


def temporary_item_retire(*, item_id: int) -> None:
    """The borrowed item is gone for good (back with the partner): hide it from every shelf
    and list; a lost or damaged one keeps saying so. Locked like any status change."""
    item = _lock_item(item_id)
    if item.status not in (Item.Status.LOST, Item.Status.DAMAGED):
        item_set_status(item=item, status=Item.Status.WITH_PARTNER)


def temporary_item_release(*, item_id: int | None, hold_id: int | None, note: str = "") -> None:
    """The borrowing request is done with the desk (its item went back to the partner, or
    the request closed): the patron's hold, if still active, is cancelled and closed, with
    `note` saying why, and the item's open transits end, so nothing is left on a hold shelf
    or in a transit list. Item first, then hold, as every desk step locks them."""
    if item_id:
        _lock_item(item_id)
        Transit.objects.filter(item_id=item_id, ended_at__isnull=True).update(
            ended_at=timezone.now())
    if hold_id:
        _close_hold(hold_id, note=note, states=Hold.ACTIVE_STATES)


def temporary_item_recall(*, item_id: int, hold_id: int | None, note: str) -> bool:
    """The partner recalled the item before the patron borrowed it: the patron's hold ends
    (cancelled, `note` says why). On the hold shelf the desk lists the item to pull; in
    transit, the pickup desk sends it on when it comes; scanned anywhere but the RS library
    it goes in transit to the RS office, and the desk says why. True when a hold ended; an
    item the patron has on loan keeps its loan (the patron must bring it back)."""
    _lock_item(item_id)
    if not hold_id:
        return False
    return _close_hold(hold_id, note=note,
                       states=(Hold.State.IN_TRANSIT, Hold.State.ON_HOLD_SHELF))


def _close_hold(hold_id: int, *, note: str, states) -> bool:
    hold = Hold.objects.select_for_update(of=("self",)).filter(pk=hold_id).first()
    if hold is None or hold.state not in states:
        return False
    hold.cancel()
    hold.closed_at = timezone.now()
    if note:
        hold.note = note[:300]
    hold.save()
    return True


# --- holds and loans ----------------------------------------------------------------------------


def hold_create(*, institution, patron, item: Item, pickup_desk=None, office_delivery=False,
                delivery_address: str = "", is_ill: bool = False, note: str = "") -> Hold:
    """A patron's hold on an item (an awaited ILL item, or one of our own). A new row."""
    return Hold.objects.create(
        institution=institution, patron=patron, bib=item.bib, item=item, is_ill=is_ill,
        pickup_desk=pickup_desk, office_delivery=office_delivery,
        delivery_address=delivery_address, note=note)


def loan_set_due(*, item_id: int, due_at, renewals: int) -> int:
    """The open loan of the item falls due at `due_at` after `renewals` renewals (an ILL
    loan the partner renewed or recalled). One UPDATE of the open loan, if there is one."""
    return Loan.objects.filter(item_id=item_id, returned_at__isnull=True).update(
        due_at=due_at, renewals=renewals)


def holds_waiting_for(*, institution_id: int, bib_id: int) -> bool:
    """Whether any of our patrons has an active hold on this title."""
    return Hold.objects.filter(institution_id=institution_id, state__in=Hold.ACTIVE_STATES,
                               bib_id=bib_id).exists()

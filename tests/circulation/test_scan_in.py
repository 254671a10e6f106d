"""The scan-in page's decisions: each scan says what it means and the next physical step."""

import datetime

import pytest
from django.utils import timezone

from circulation import services
from circulation.models import DeskScan, Hold, Loan, Transit
from circulation.services import Level, Outcome, desk_scan_in
from fulfillment.models import Item, ItemBarcode

from .helpers import block, ill_item, make_patron, own_item

pytestmark = pytest.mark.django_db


def scan(world, barcode, desk=None, **kw):
    return desk_scan_in(desk=desk or world.desk, barcode=barcode, user=world.user, **kw)


def test_an_ill_item_arriving_from_the_rs_office_goes_on_the_hold_shelf_for_its_patron(world):
    patron = make_patron(world, first_name="Helmi", last_name="Mäkinen")
    item, hold = ill_item(world, patron)
    assert item.transits.get(ended_at__isnull=True).to_desk == world.desk

    result = scan(world, "PART-1")

    assert result.outcome == Outcome.ON_HOLD_SHELF and result.level == Level.OK
    assert "Helmi Mäkinen" in result.message
    assert any("Arrival notice sent to pat@example.org" in d for d in result.details)
    hold.refresh_from_db()
    item.refresh_from_db()
    assert hold.state == Hold.State.ON_HOLD_SHELF and hold.shelf_desk == world.desk
    # The ILL terms of use say how long it waits (rs_setup's ILL terms: default 7 days).
    assert hold.pickup_deadline == timezone.localdate() + datetime.timedelta(
        days=world.setup.terms.pickup_days)
    assert item.status == Item.Status.ON_HOLD_SHELF
    assert not Transit.objects.filter(item=item, ended_at__isnull=True).exists()
    assert world.bridge.names() == ["item_arrived_at_desk"]
    assert "Helmi" in result.slip_html


def test_every_barcode_of_the_item_finds_it_own_partner_and_rfid(world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron, barcodes=[("PART-9", "partner"),
                                                    ("e2801160600002", "rfid")])
    result = scan(world, " E280 1160600002 ")
    assert result.item == item and result.outcome == Outcome.ON_HOLD_SHELF
    again = scan(world, "part-9")
    assert again.item == item and again.outcome == Outcome.ALREADY_ON_SHELF


def test_an_item_for_another_desk_goes_in_transit_to_that_desk(world):
    patron = make_patron(world)
    item, hold = ill_item(world, patron, pickup_desk=world.branch_desk, received=False)
    Item.objects.filter(pk=item.pk).update(status=Item.Status.IN_PLACE)

    result = scan(world, "PART-1", desk=world.desk)

    assert result.outcome == Outcome.TRANSIT_TO_DESK
    assert "Branch desk" in result.message and "transit bin" in result.message
    transit = Transit.objects.get(item=item, ended_at__isnull=True)
    assert transit.to_desk == world.branch_desk
    hold.refresh_from_db()
    assert hold.state == Hold.State.IN_TRANSIT


def test_an_item_in_transit_to_another_desk_is_not_taken_in_here(world):
    patron = make_patron(world)
    item, hold = ill_item(world, patron, pickup_desk=world.branch_desk)
    result = scan(world, "PART-1", desk=world.desk)
    assert result.outcome == Outcome.TRANSIT_ELSEWHERE and result.level == Level.ACTION
    assert "Branch desk" in result.message
    hold.refresh_from_db()
    assert hold.state == Hold.State.IN_TRANSIT


def test_a_returned_ill_item_at_a_desk_goes_in_transit_to_the_rs_library(world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron)
    scan(world, "PART-1")
    loan = services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)

    result = scan(world, "PART-1")

    assert result.outcome == Outcome.RETURNED
    assert world.setup.rs.name in result.message
    loan.refresh_from_db()
    assert loan.returned_at is not None and loan.returned_desk == world.desk
    transit = Transit.objects.get(item=item, ended_at__isnull=True)
    assert transit.to_library == world.setup.rs
    assert transit.reason == Transit.Reason.RETURN_TO_RS
    assert "item_returned" in world.bridge.names()


def test_at_the_rs_library_ill_says_return_to_partner_and_the_return_slip_prints(world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron)
    scan(world, "PART-1")
    services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    scan(world, "PART-1")  # returned at the desk, in transit to the RS library

    result = scan(world, "PART-1", desk=world.rs_desk)

    assert result.outcome == Outcome.BACK_AT_RS
    assert result.message.startswith("Return to partner National Repository Library")
    assert "RETURN TO PARTNER" in result.slip_html or "National Repository" in result.slip_html
    assert world.bridge.names()[-1] == "item_back_at_rs_library"
    item.refresh_from_db()
    assert item.location == world.setup.incoming
    assert not Transit.objects.filter(item=item, ended_at__isnull=True).exists()
    # Telling the partner cannot be undone.
    assert result.scan.undo == {}


def test_an_unknown_barcode_says_so_clearly(world):
    result = scan(world, "NOPE-123")
    assert result.outcome == Outcome.UNKNOWN and result.level == Level.STOP
    assert "NOPE-123" in result.message
    assert DeskScan.objects.get(desk=world.desk).outcome == Outcome.UNKNOWN


def test_a_scan_that_reads_two_items_asks_which_one_and_the_answer_decides(world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron, barcodes=[("E280AAAA", "rfid")])
    other = own_item(world, barcodes=[("E280BBBB", "rfid")])

    result = scan(world, "E280AAAA;E280BBBB")  # an RFID pad read both tags

    assert result.outcome == Outcome.AMBIGUOUS
    assert {c.pk for c in result.candidates} == {item.pk, other.pk}
    picked = scan(world, "E280AAAA;E280BBBB", item_id=item.pk)
    assert picked.outcome == Outcome.ON_HOLD_SHELF and picked.item == item


def test_undo_puts_the_last_scan_back_and_only_once(world):
    patron = make_patron(world)
    item, hold = ill_item(world, patron)
    scan(world, "PART-1")

    services.undo_last_scan(desk=world.desk, user=world.user)

    hold.refresh_from_db()
    item.refresh_from_db()
    assert hold.state == Hold.State.IN_TRANSIT and hold.shelved_at is None
    assert item.status == Item.Status.IN_TRANSIT
    assert Transit.objects.get(item=item, ended_at__isnull=True).to_desk == world.desk
    assert world.bridge.names()[-1] == "scan_undone"
    with pytest.raises(services.DeskError, match="already undone"):
        services.undo_last_scan(desk=world.desk, user=world.user)
    # Scanning again works as if the first scan never happened.
    assert scan(world, "PART-1").outcome == Outcome.ON_HOLD_SHELF


def test_undo_of_a_return_reopens_the_loan(world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron)
    scan(world, "PART-1")
    loan = services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    scan(world, "PART-1")

    services.undo_last_scan(desk=world.desk, user=world.user)

    loan.refresh_from_db()
    item.refresh_from_db()
    assert loan.returned_at is None and item.status == Item.Status.LOANED
    assert not Transit.objects.filter(item=item, ended_at__isnull=True).exists()


def test_the_recent_scans_list_keeps_the_last_twenty(world):
    for n in range(25):
        scan(world, f"UNKNOWN-{n}")
    recent = services.recent_scans(desk=world.desk)
    assert len(recent) == 20
    assert recent[0].barcode == "UNKNOWN-24"


@pytest.mark.parametrize("trouble, words", [
    ("blocked", ["Blocked", "Unpaid fees", "45.00"]),
    ("expired", ["expired"]),
    ("limit", ["loan limit", "2"]),
])
def test_a_patron_who_cannot_borrow_still_gets_the_item_on_the_shelf_and_staff_are_told_why(
        world, trouble, words):
    patron = make_patron(world, group="EXTERNAL")
    if trouble == "blocked":
        block(patron)
    elif trouble == "expired":
        patron.expiry_date = timezone.localdate() - datetime.timedelta(days=3)
        patron.save()
    else:
        for n in range(2):
            other = own_item(world, barcodes=[f"L{n}"])
            services.loan_item(desk=world.desk, patron=patron, item=other, user=world.user)
    item, hold = ill_item(world, patron)

    result = scan(world, "PART-1")

    assert result.outcome == Outcome.ON_HOLD_SHELF and result.level == Level.ACTION
    text = " ".join([result.message, *result.details])
    for word in words:
        assert word in text
    assert "override" in text and "contact the patron" in text
    assert result.may_override
    hold.refresh_from_db()
    assert hold.state == Hold.State.ON_HOLD_SHELF


def test_office_delivery_loans_the_item_and_says_put_it_in_internal_mail(world):
    patron = make_patron(world, group="STAFF")
    item, hold = ill_item(world, patron, pickup_desk=None, office_delivery=True,
                          address="CS department, room A123, internal mail 15400")
    transit = Transit.objects.get(item=item, ended_at__isnull=True)
    assert transit.to_desk == world.rs_desk  # no pickup desk: the RS office's own desk

    result = scan(world, "PART-1", desk=world.rs_desk)

    assert result.outcome == Outcome.OFFICE_DELIVERY and result.level == Level.OK
    assert "internal mail to CS department, room A123" in result.message
    loan = Loan.objects.get(item=item, returned_at__isnull=True)
    assert loan.patron == patron and loan.is_ill
    hold.refresh_from_db()
    assert hold.state == Hold.State.LOANED
    assert world.bridge.names()[-1] == "item_loaned"


@pytest.mark.parametrize("trouble", ["blocked", "limit"])
def test_office_delivery_for_a_patron_who_cannot_borrow_stops_and_keeps_the_item_findable(
        world, trouble):
    patron = make_patron(world, group="STAFF" if trouble == "blocked" else "EXTERNAL")
    if trouble == "blocked":
        block(patron, reason="overdue", note="Three overdue items", amount=None)
    else:
        for n in range(2):
            services.loan_item(desk=world.desk, patron=patron,
                               item=own_item(world, barcodes=[f"L{n}"]), user=world.user)
    item, hold = ill_item(world, patron, pickup_desk=None, office_delivery=True,
                          address="School of Business, room B201")

    result = scan(world, "PART-1", desk=world.rs_desk)

    assert result.outcome == Outcome.OFFICE_DELIVERY_HELD and result.level == Level.STOP
    assert "Do not put it in internal mail" in result.message
    text = " ".join(result.details)
    assert ("Three overdue items" in text) if trouble == "blocked" else ("loan limit" in text)
    assert not Loan.objects.filter(item=item).exists()
    hold.refresh_from_db()
    item.refresh_from_db()
    # Findable: on the hold shelf of the desk that kept it, with the item saying so.
    assert hold.state == Hold.State.ON_HOLD_SHELF and hold.shelf_desk == world.rs_desk
    assert item.status == Item.Status.ON_HOLD_SHELF


def test_an_international_loan_is_marked_desk_pickup_only_on_the_screen_and_the_slip(world):
    patron = make_patron(world)
    ill_item(world, patron, desk_pickup_only=True)
    result = scan(world, "PART-1")
    assert any("Desk pickup only" in d for d in result.details)
    assert "DESK PICKUP ONLY" in result.slip_html.upper()


def test_an_ill_item_not_yet_received_is_sent_to_the_rs_office(world):
    patron = make_patron(world)
    ill_item(world, patron, received=False)
    result = scan(world, "PART-1")
    assert result.outcome == Outcome.NOT_RECEIVED and result.level == Level.STOP


def test_an_own_item_returned_in_its_home_library_goes_back_on_the_shelf(world):
    patron = make_patron(world)
    item = own_item(world, call_number="QA 76")
    services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    result = scan(world, "OWN-1")
    assert result.outcome == Outcome.RESHELVE and "QA 76" in result.message
    item.refresh_from_db()
    assert item.status == Item.Status.IN_PLACE


def test_an_own_item_returned_elsewhere_goes_in_transit_home(world):
    patron = make_patron(world)
    item = own_item(world)
    services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    result = scan(world, "OWN-1", desk=world.branch_desk)
    assert result.outcome == Outcome.TRANSIT_HOME
    assert Transit.objects.get(item=item, ended_at__isnull=True).to_library == world.setup.main


def test_a_barcode_of_another_institution_is_unknown_here(world):
    from tests import factories as f

    other = f.institution("KAISA")
    f.item(f.location(f.library(other)), barcodes=["THEIRS-1"])
    assert scan(world, "THEIRS-1").outcome == Outcome.UNKNOWN


def test_one_scan_takes_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    patron = make_patron(world)
    ill_item(world, patron, barcodes=[("PART-1", "partner"), ("E280CC", "rfid")])
    ItemBarcode.objects.create(institution=world.inst, item=Item.objects.get(), barcode="X1")
    # 22: the arrival notice is written, rendered, in the scan's transaction (its template
    # looked up, its row inserted), so that it is sent even if the broker is down.
    with django_assert_max_num_queries(22):
        result = scan(world, "E280CC")
    assert result.outcome == Outcome.ON_HOLD_SHELF


def test_when_ill_refuses_a_step_the_scan_stops_and_changes_nothing(world):
    class Refusal(Exception):
        def __init__(self, message):
            super().__init__(message)
            self.message = message

    def refuse(**kwargs):
        raise Refusal("Request B-1 is “Cancelled by staff”: its item cannot be loaned now.")

    world.bridge.item_loaned = refuse
    patron = make_patron(world, group="STAFF")
    item, hold = ill_item(world, patron, pickup_desk=None, office_delivery=True,
                          address="Room A123")

    result = scan(world, "PART-1", desk=world.rs_desk)

    assert result.outcome == Outcome.REFUSED and result.level == Level.STOP
    assert "cannot be loaned now" in result.message
    hold.refresh_from_db()
    item.refresh_from_db()
    assert hold.state == Hold.State.IN_TRANSIT and item.status == Item.Status.IN_TRANSIT
    assert not Loan.objects.exists()
    assert DeskScan.objects.get().outcome == Outcome.REFUSED

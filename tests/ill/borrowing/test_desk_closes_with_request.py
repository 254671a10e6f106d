"""The desk side closes with the borrowing request (issue 11, point 7): a recall sends the
item from the hold shelf back to the RS office, and a request that ends leaves no hold or
transit behind."""

import datetime

import pytest
from django.utils import timezone

from circulation import services as desk
from circulation.models import Hold, Transit
from circulation.tasks import items_to_pull
from fulfillment.models import Item
from ill.borrowing import services as bs
from ill.models import BorrowingRequest
from kauko import roles
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """A loan the RS office received: the item is in transit to the patron's pickup desk."""
    inst = f.institution("OTA")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL")
    patron = f.patron(inst, group=f.patron_group(inst, "STUDENT", loan_limit=5),
                      pickup_desk=setup.desk, email="p@example.org")
    rs_staff = f.staff(inst, roles.RESOURCE_SHARING)
    desk_staff = f.staff(inst, roles.CIRCULATION)
    request = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)
    request = bs.borrowing_request_send(request=request, user=rs_staff)
    request = bs.borrowing_request_shipped(
        request=request, due_date=timezone.localdate() + datetime.timedelta(days=30),
        barcode="NRL-1", user=rs_staff)
    request = bs.borrowing_request_receive(request=request, barcode="NRL-1", user=rs_staff)
    return type("World", (), dict(setup=setup, rs_staff=rs_staff, desk_staff=desk_staff,
                                  request=request, patron=patron))


def fresh(r):
    return BorrowingRequest.objects.get(pk=r.pk)


def open_transits(request):
    return Transit.objects.filter(item_id=request.temporary_item_id, ended_at__isnull=True)


def hold_of(request):
    return Hold.objects.get(pk=request.hold_id)


def test_a_recall_sends_the_item_on_the_hold_shelf_back_to_the_rs_office(received):
    w = received
    desk.desk_scan_in(desk=w.setup.desk, barcode="NRL-1", user=w.desk_staff)
    assert hold_of(w.request).state == Hold.State.ON_HOLD_SHELF

    request = bs.borrowing_request_recalled(request=fresh(w.request))
    assert request.status == S.RECALLED
    assert "pickup desk sends the item back" in request.attention_reason
    hold = hold_of(request)
    assert hold.state == Hold.State.CANCELLED and "Recalled by the partner" in hold.note
    # The hold shelf lists it to pull; scanning it sends it to the RS office and says why.
    assert [i.pk for i in items_to_pull(desk=w.setup.desk)] == [request.temporary_item_id]
    scanned = desk.desk_scan_in(desk=w.setup.desk, barcode="NRL-1", user=w.desk_staff)
    assert scanned.outcome == desk.Outcome.TRANSIT_TO_RS
    assert any("Recalled by the partner" in d for d in scanned.details)
    assert not items_to_pull(desk=w.setup.desk).exists()

    back = desk.desk_scan_in(desk=w.setup.rs_desk, barcode="NRL-1", user=w.rs_staff)
    assert back.outcome == desk.Outcome.BACK_AT_RS
    request = fresh(request)
    assert request.status == S.RETURNED_TO_PARTNER
    assert not open_transits(request).exists()
    request = bs.borrowing_request_complete(request=request, user=w.rs_staff)
    assert not request.needs_attention


def test_a_recall_of_an_item_on_loan_leaves_the_patron_s_loan(received):
    w = received
    desk.desk_scan_in(desk=w.setup.desk, barcode="NRL-1", user=w.desk_staff)
    item = Item.objects.get(pk=w.request.temporary_item_id)
    desk.loan_item(desk=w.setup.desk, patron=w.patron, item=item, user=w.desk_staff)
    request = bs.borrowing_request_recalled(request=fresh(w.request))
    assert "get the item back from the patron" in request.attention_reason
    assert hold_of(request).state == Hold.State.LOANED


def test_returning_to_the_partner_straight_after_receiving_closes_hold_and_transit(received):
    w = received
    assert open_transits(w.request).exists()
    request = bs.borrowing_request_return_to_partner(request=fresh(w.request),
                                                     user=w.rs_staff)
    assert hold_of(request).state == Hold.State.CANCELLED
    assert hold_of(request).closed_at is not None
    assert not open_transits(request).exists()
    assert Item.objects.get(pk=request.temporary_item_id).status == Item.Status.WITH_PARTNER
    request = bs.borrowing_request_complete(request=request, user=w.rs_staff)
    assert request.status == S.COMPLETED


def test_a_request_completed_with_the_item_on_the_hold_shelf_closes_the_hold(received):
    w = received
    desk.desk_scan_in(desk=w.setup.desk, barcode="NRL-1", user=w.desk_staff)
    request = bs.borrowing_request_complete(request=fresh(w.request), user=w.rs_staff)
    assert request.status == S.COMPLETED
    assert hold_of(request).state == Hold.State.CANCELLED
    assert not open_transits(request).exists()


def test_a_lost_item_leaves_no_hold_or_transit(received):
    w = received
    request = bs.borrowing_request_report(request=fresh(w.request), what="lost",
                                          user=w.rs_staff)
    assert hold_of(request).state == Hold.State.CANCELLED
    assert not open_transits(request).exists()

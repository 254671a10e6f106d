"""Issue 12: slips say what staff need: pull slips where the item is, shipping and return
slips the partner's postal address (or that it is missing), and the hold slip is offered at
receive and travels with an item in transit to its pickup desk."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation import services as desk
from ill.borrowing.services import (
    borrowing_request_receive,
    borrowing_request_send,
    borrowing_request_shipped,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def kalevala(setup):
    return f.item(setup.stacks, title="Kalevala", barcodes=("OTA-K1",), call_number="894.541 KAL")


@pytest.fixture
def lending(inst, setup, partner, rs_staff, kalevala):
    return f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff,
                             citation={"title": "Kalevala"})


def test_a_pull_slip_says_the_call_number_shelf_location_and_library(
    client, lending, rs_staff, setup
):
    client.force_login(rs_staff)
    page = client.get(reverse("ill:lending_pull_slips_print") + f"?ids={lending.pk}")
    assert "894.541 KAL" in page.text
    assert f"{setup.main.name} – {setup.stacks.name}" in page.text


def test_the_shipping_slip_prints_the_partners_shipping_address(client, lending, rs_staff):
    client.force_login(rs_staff)
    page = client.get(reverse("ill:lending_shipping_slip", args=[lending.pk]))
    assert "PO Box 1710<br>Kuopio" in page.text
    assert 'data-missing="address"' not in page.text


def test_a_shipping_slip_says_when_the_partner_has_no_address(client, lending, rs_staff,
                                                              partner):
    partner.address = ""
    partner.save()
    client.force_login(rs_staff)
    page = client.get(reverse("ill:lending_shipping_slip", args=[lending.pk]))
    assert 'data-missing="address"' in page.text


def _back_at_rs(inst, setup, partner, rs_staff, desk_staff, barcode="RET-1"):
    patron = f.patron(inst, pickup_desk=setup.desk, email="p@example.org",
                      group=f.patron_group(inst, "STUDENT", loan_limit=5))
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    request_ = borrowing_request_shipped(
        request=request_, due_date=timezone.localdate() + datetime.timedelta(days=30),
        user=rs_staff)
    request_ = borrowing_request_receive(request=request_, barcode=barcode, user=rs_staff)
    desk.desk_scan_in(desk=setup.desk, barcode=barcode, user=desk_staff)
    from fulfillment.models import Item

    item = Item.objects.get(pk=request_.temporary_item_id)
    desk.loan_item(desk=setup.desk, patron=patron, item=item, user=desk_staff)
    desk.return_item(desk=setup.desk, item=item, user=desk_staff)
    return desk.desk_scan_in(desk=setup.rs_desk, barcode=barcode, user=rs_staff)


def test_the_return_slip_prints_the_partners_returns_address(inst, setup, partner, rs_staff,
                                                             desk_staff):
    partner.return_address = "Returns desk\nPO Box 99\nKuopio"
    partner.save()
    back = _back_at_rs(inst, setup, partner, rs_staff, desk_staff)
    assert "Returns desk<br>PO Box 99<br>Kuopio" in back.slip_html
    assert "PO Box 1710" not in back.slip_html


def test_a_return_slip_says_when_the_partner_has_no_address(inst, setup, rs_staff,
                                                            desk_staff):
    nowhere = f.partner(inst, code="NOWHERE", address="")
    back = _back_at_rs(inst, setup, nowhere, rs_staff, desk_staff)
    assert 'data-missing="address"' in back.slip_html


def test_the_hold_slip_is_offered_at_receive(client, inst, setup, partner, rs_staff,
                                             other_staff):
    patron = f.patron(inst, pickup_desk=setup.desk, first_name="Maija",
                      last_name="Meikäläinen")
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    client.force_login(rs_staff)
    detail = reverse("ill:borrowing_detail", args=[request_.pk])
    assert 'data-testid="hold-slip"' not in client.get(detail).text
    borrowing_request_receive(request=request_, barcode="HS-1", user=rs_staff)
    assert 'data-testid="hold-slip"' in client.get(detail).text
    slip = client.get(reverse("ill:borrowing_hold_slip", args=[request_.pk]))
    assert "Maija Meikäläinen" in slip.text and setup.desk.name in slip.text
    assert request_.number in slip.text
    client.force_login(other_staff)
    assert client.get(reverse("ill:borrowing_hold_slip", args=[request_.pk])).status_code \
        == 404


def test_an_item_sent_on_to_its_pickup_desk_gets_a_routing_slip(inst, setup, desk_staff,
                                                                  kalevala):
    far = f.desk(setup.main, "FAR-DESK", name="Branch desk")
    patron = f.patron(inst, pickup_desk=far, first_name="Ville")
    desk.hold_create(institution=inst, patron=patron, item=kalevala, pickup_desk=far)
    result = desk.desk_scan_in(desk=setup.desk, barcode="OTA-K1", user=desk_staff)
    assert result.outcome == desk.Outcome.TRANSIT_TO_DESK
    assert "Branch desk" in result.slip_html and "Ville" in result.slip_html

"""The desk pages: access, the scan-in loop, check-out/in, hold shelf, self-service."""

import pytest
from django.urls import reverse

from circulation import services
from circulation.models import DeskScan, Hold, Loan
from kauko import roles
from tests import factories as f

from .helpers import block, ill_item, make_patron, own_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(client, world):
    client.force_login(world.user)
    return client


def scan_url(world, desk=None):
    return reverse("desk:scan_in", args=[(desk or world.desk).pk])


def test_another_institutions_desk_is_not_found(desk_client, world):
    other = f.institution("KAISA")
    their_desk = f.desk(f.library(other), "THEIRS")
    assert desk_client.get(reverse("desk:scan_in", args=[their_desk.pk])).status_code == 404
    assert desk_client.post(reverse("desk:scan_in", args=[their_desk.pk]),
                            {"barcode": "X"}).status_code == 404


def test_staff_without_the_desk_permission_are_refused(client, world):
    client.force_login(f.staff(world.inst, role=None))
    assert client.get(scan_url(world)).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    assert client.get(scan_url(world)).status_code == 302


def test_scanning_shows_large_feedback_with_a_word_and_keeps_the_field_focused(
        desk_client, world):
    patron = make_patron(world, first_name="Helmi")
    ill_item(world, patron)
    response = desk_client.post(scan_url(world), {"barcode": "PART-1"})
    assert response.status_code == 302
    page = desk_client.get(response["Location"])
    html = page.content.decode()
    assert 'data-level="ok"' in html and ">OK<" in html
    assert 'aria-live="assertive"' in html
    assert "On the hold shelf for Helmi" in html
    assert "autofocus" in html and "data-keep-focus" in html
    assert "Undo the last scan (PART-1)" in html


def test_a_get_never_scans(desk_client, world):
    desk_client.get(scan_url(world), {"barcode": "PART-1"})
    assert not DeskScan.objects.exists()


def test_the_scan_screen_takes_a_bounded_number_of_queries(
        desk_client, world, django_assert_max_num_queries):
    patron = make_patron(world)
    for n in range(25):
        services.desk_scan_in(desk=world.desk, barcode=f"NOPE{n}", user=world.user)
    ill_item(world, patron)
    with django_assert_max_num_queries(30):
        response = desk_client.post(scan_url(world), {"barcode": "PART-1"})
    with django_assert_max_num_queries(15):
        page = desk_client.get(response["Location"])
    assert page.status_code == 200


def test_an_ambiguous_scan_offers_the_items_and_picking_one_scans_it(desk_client, world):
    patron = make_patron(world)
    item, hold = ill_item(world, patron, barcodes=[("E280AA", "rfid")])
    own_item(world, barcodes=[("E280BB", "rfid")], title="Another book")
    page = desk_client.get(desk_client.post(scan_url(world), {"barcode": "E280AA E280BB"})
                           ["Location"])
    assert "ACTION NEEDED" in page.content.decode() and "Another book" in page.content.decode()
    desk_client.post(scan_url(world), {"barcode": "E280AA E280BB", "item_id": item.pk})
    hold.refresh_from_db()
    assert hold.state == Hold.State.ON_HOLD_SHELF


def test_an_unknown_barcode_says_stop_and_offers_a_search(desk_client, world):
    page = desk_client.get(desk_client.post(scan_url(world), {"barcode": "ZZZ"})["Location"])
    html = page.content.decode()
    assert ">STOP<" in html and "Unknown barcode ZZZ" in html
    assert reverse("fulfillment:item_search") + "?q=ZZZ" in html


def test_undo_from_the_page(desk_client, world):
    patron = make_patron(world)
    _item, hold = ill_item(world, patron)
    desk_client.post(scan_url(world), {"barcode": "PART-1"})
    desk_client.post(reverse("desk:undo", args=[world.desk.pk]))
    hold.refresh_from_db()
    assert hold.state == Hold.State.IN_TRANSIT
    assert DeskScan.objects.get().undone_at is not None


def test_a_blocked_patron_is_explained_and_a_permitted_user_can_override(desk_client, world):
    patron = make_patron(world)
    block(patron)
    item, hold = ill_item(world, patron)
    page = desk_client.get(desk_client.post(scan_url(world), {"barcode": "PART-1"})["Location"])
    html = page.content.decode()
    assert "ACTION NEEDED" in html and "Unpaid fees" in html and "45.00" in html
    override = reverse("desk:override_loan", args=[world.desk.pk, hold.pk])
    assert override in html
    desk_client.post(override)
    assert Loan.objects.get(item=item).overridden_by == world.user


def test_check_out_finds_the_patron_then_loans_each_scanned_item(desk_client, world):
    patron = make_patron(world, barcode="CARD-1", first_name="Onni")
    item = own_item(world)
    url = reverse("desk:check_out", args=[world.desk.pk])
    page = desk_client.get(url, {"patron": "card-1"})
    assert "Onni" in page.content.decode()
    response = desk_client.post(url, {"patron": "CARD-1", "barcode": "OWN-1"})
    assert response.status_code == 302
    assert Loan.objects.get(item=item).patron == patron


def test_check_out_to_a_blocked_patron_says_why_and_what_can_be_done(desk_client, world):
    patron = make_patron(world, barcode="CARD-2")
    block(patron, reason="overdue", note="Three overdue items", amount=None)
    own_item(world)
    url = reverse("desk:check_out", args=[world.desk.pk])
    page = desk_client.post(url, {"patron": "CARD-2", "barcode": "OWN-1"})
    html = page.content.decode()
    assert page.status_code == 200 and "Three overdue items" in html
    assert "Loan anyway (override)" in html
    assert not Loan.objects.exists()
    desk_client.post(url, {"patron": "CARD-2", "barcode": "OWN-1", "override": "1"})
    assert Loan.objects.get().override_reason


def test_check_in_says_where_the_item_goes(desk_client, world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron)
    services.desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    services.loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    url = reverse("desk:check_in", args=[world.desk.pk])
    page = desk_client.get(desk_client.post(url, {"barcode": "PART-1"})["Location"])
    assert "in transit to RS" in page.content.decode()


def test_the_hold_shelf_lists_who_each_item_waits_for_and_until_when(
        desk_client, world, django_assert_max_num_queries):
    for n in range(5):
        patron = make_patron(world, last_name=f"Waiter{n}")
        ill_item(world, patron, barcodes=[f"HS{n}"])
        services.desk_scan_in(desk=world.desk, barcode=f"HS{n}", user=world.user)
    url = reverse("desk:hold_shelf", args=[world.desk.pk])
    with django_assert_max_num_queries(15):
        page = desk_client.get(url)
    html = page.content.decode()
    for n in range(5):
        assert f"Waiter{n}" in html and f"HS{n}" in html


def test_self_service_refuses_a_desk_only_item_and_loans_a_domestic_one(desk_client, world):
    patron = make_patron(world, barcode="CARD-3")
    ill_item(world, patron, barcodes=["INTL-1"], desk_pickup_only=True)
    ill_item(world, patron, barcodes=["DOM-1"])
    for barcode in ("INTL-1", "DOM-1"):
        services.desk_scan_in(desk=world.desk, barcode=barcode, user=world.user)
    url = reverse("desk:self_service", args=[world.desk.pk])
    refused = desk_client.post(url, {"patron": "CARD-3", "barcode": "INTL-1", "action": "loan"})
    assert "Desk pickup only" in refused.content.decode()
    loaned = desk_client.post(url, {"patron": "CARD-3", "barcode": "DOM-1", "action": "loan"})
    assert "Borrowed" in loaned.content.decode()
    assert Loan.objects.filter(self_service=True).count() == 1


def test_self_service_never_names_another_patron(desk_client, world):
    waiting = make_patron(world, first_name="Secret", last_name="Person")
    make_patron(world, barcode="CARD-4")
    ill_item(world, waiting)
    services.desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    url = reverse("desk:self_service", args=[world.desk.pk])
    page = desk_client.post(url, {"patron": "CARD-4", "barcode": "PART-1", "action": "loan"})
    assert "Secret" not in page.content.decode()
    assert "reserved for someone else" in page.content.decode()


def test_the_item_page_shows_where_the_item_is_and_its_request(desk_client, world):
    patron = make_patron(world)
    item, _hold = ill_item(world, patron)
    page = desk_client.get(reverse("desk:item_circulation", args=[item.pk]))
    html = page.content.decode()
    assert "In transit" in html and f"B-{item.pk}" in html and world.desk.name in html


def test_the_slip_page_prints_the_stored_slip(desk_client, world):
    patron = make_patron(world, first_name="Slip")
    ill_item(world, patron)
    result = services.desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    page = desk_client.get(reverse("desk:slip", args=[world.desk.pk, result.scan.pk]))
    assert "Slip" in page.content.decode() and "data-autoprint" in page.content.decode()


def test_the_desk_list_shows_the_institutions_desks_only(desk_client, world):
    other = f.institution("KAISA")
    f.desk(f.library(other), "THEIRS", name="Their desk")
    html = desk_client.get(reverse("desk:desk_list")).content.decode()
    assert world.desk.name in html and "Their desk" not in html


def test_the_circulation_desk_role_may_scan_and_override(world):
    assert world.user.has_perm("fulfillment.change_item")
    assert world.user.has_perm("fulfillment.override_block")
    assert not f.staff(world.inst, roles.CONFIGURATION).has_perm("fulfillment.override_block")

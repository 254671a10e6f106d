"""Lending screens: the happy path through the browser's forms, and the refusals (anonymous,
wrong role, other institution, GET on actions, wrong state), and query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Item
from ill.models import LendingRequest
from kauko import roles
from kauko.barcodes import decode_widths, widths
from tests import factories as f

S = LendingRequest.Status
pytestmark = pytest.mark.django_db










@pytest.fixture
def book(setup):
    item = f.item(setup.stacks, title="Seitsemän veljestä", barcodes=("OTA100",))
    item.bib.isbn = "9789510096578"
    item.bib.save()
    return item


@pytest.fixture
def lent(inst, setup, partner, book):
    return f.lending_request(inst, setup=setup, partner_=partner, partner_request_id="NRL-1",
                             citation={"title": "Seitsemän veljestä", "isbn": "9789510096578"})


def _action(client, r, name, **data):
    r.refresh_from_db()
    payload = {f"{name}-version": r.version, **{f"{name}-{k}": v for k, v in data.items()}}
    return client.post(reverse("ill:lending_action", args=[r.pk, name]), payload)


def test_create_from_an_email_locates_and_opens_the_request(client, inst, setup, rs_staff,
                                                            partner, book):
    client.force_login(rs_staff)
    response = client.post(reverse("ill:lending_create"), {
        "partner": partner.pk, "partner_request_id": "NRL-B-77", "service_type": "loan",
        "title": "Seitsemän veljestä", "isbn": "978-951-0-09657-8",
        "needed_before": "2030-01-31", "max_cost": "10.00", "partner_note": "For a thesis"})
    created = LendingRequest.objects.get(partner_request_id="NRL-B-77")
    assert response.status_code == 302
    assert response["Location"] == reverse("ill:lending_detail", args=[created.pk])
    assert created.status == S.PROCESSING and created.item == book
    assert created.created_by == rs_staff
    page = client.get(response["Location"])
    assert "OTA100" in page.text and "Being processed" in page.text


def test_the_detail_page_offers_only_the_actions_valid_now(client, lent, rs_staff):
    client.force_login(rs_staff)
    response = client.get(reverse("ill:lending_detail", args=[lent.pk]))
    offered = {a.name for a, _form in response.context["actions"]}
    assert {"will_supply", "conditional", "ship", "reject", "choose_item",
            "cancel_answer"} <= offered
    assert not offered & {"check_in", "renewal_answer", "returned", "locate", "recall"}


def test_answer_ship_renew_and_check_in_through_the_forms(client, lent, rs_staff, book,
                                                          setup, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    client.force_login(rs_staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert _action(client, lent, "will_supply").status_code == 302
        due = timezone.localdate() + datetime.timedelta(days=20)
        _action(client, lent, "ship", barcode="OTA100", due_date=due.isoformat())
    lent.refresh_from_db()
    assert lent.status == S.SHIPPED_PHYSICAL and lent.due_date == due
    _action(client, lent, "renewal_asked")
    new_due = due + datetime.timedelta(days=14)
    with django_capture_on_commit_callbacks(execute=True):
        _action(client, lent, "renewal_answer", granted="yes", new_due_date=new_due.isoformat())
    lent.refresh_from_db()
    assert lent.status == S.RECEIVED and lent.due_date == new_due
    book.refresh_from_db()
    assert (book.status, book.location) == (Item.Status.RESOURCE_SHARING, setup.outgoing)
    with django_capture_on_commit_callbacks(execute=True):
        _action(client, lent, "check_in", barcode="OTA100")
    lent.refresh_from_db()
    book.refresh_from_db()
    assert lent.status == S.COMPLETED
    assert (book.status, book.location) == (Item.Status.IN_PLACE, setup.stacks)
    assert len(mailoutbox) == 4  # will supply, shipped, renewal answer, checked in


def test_a_wrong_barcode_is_said_and_nothing_moves(client, lent, rs_staff):
    client.force_login(rs_staff)
    response = _action(client, lent, "ship", barcode="WRONG")
    lent.refresh_from_db()
    assert lent.status == S.PROCESSING
    follow = client.get(response["Location"])
    assert "not this request" in follow.text


def test_reject_with_a_reason(client, lent, rs_staff, book):
    client.force_login(rs_staff)
    _action(client, lent, "reject", reason_code="NotOnShelf")
    lent.refresh_from_db()
    book.refresh_from_db()
    assert lent.status == S.REJECTED and lent.unfilled_reason == "NotOnShelf"
    assert book.status == Item.Status.IN_PLACE


def test_an_action_in_the_wrong_state_is_refused(client, lent, rs_staff):
    client.force_login(rs_staff)
    response = _action(client, lent, "check_in", barcode="OTA100")
    assert response.status_code == 302
    lent.refresh_from_db()
    assert lent.status == S.PROCESSING
    assert "not possible now" in client.get(response["Location"]).text


def test_a_stale_page_is_refused(client, lent, rs_staff):
    client.force_login(rs_staff)
    seen = lent.version
    _action(client, lent, "will_supply")
    response = client.post(reverse("ill:lending_action", args=[lent.pk, "reject"]),
                           {"reject-version": seen, "reject-reason_code": "NotHeld"})
    lent.refresh_from_db()
    assert lent.status == S.WILL_SUPPLY
    assert "Someone else changed" in client.get(response["Location"]).text


def test_actions_are_post_only(client, lent, rs_staff):
    client.force_login(rs_staff)
    response = client.get(reverse("ill:lending_action", args=[lent.pk, "will_supply"]))
    assert response.status_code == 405
    assert client.get(reverse("ill:lending_bulk")).status_code == 405
    assert client.get(reverse("ill:lending_pull_slips")).status_code == 405


def test_anonymous_is_sent_to_log_in(client, lent):
    for url in (reverse("ill:lending_list"), reverse("ill:lending_detail", args=[lent.pk]),
                reverse("ill:lending_pick_list")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    client.post(reverse("ill:lending_action", args=[lent.pk, "will_supply"]),
                {"will_supply-version": lent.version})
    lent.refresh_from_db()
    assert lent.status == S.PROCESSING


def test_the_desk_may_look_but_not_act(client, inst, lent):
    desk = f.staff(inst, roles.CIRCULATION)
    client.force_login(desk)
    assert client.get(reverse("ill:lending_detail", args=[lent.pk])).status_code == 200
    response = _action(client, lent, "will_supply")
    assert response.status_code == 403
    assert client.get(reverse("ill:lending_create")).status_code == 403


def test_another_institutions_request_is_not_found(client, lent):
    other = f.institution("HEL")
    client.force_login(f.staff(other, roles.RESOURCE_SHARING))
    assert client.get(reverse("ill:lending_detail", args=[lent.pk])).status_code == 404
    assert _action(client, lent, "will_supply").status_code == 404
    assert client.get(reverse("ill:lending_shipping_slip", args=[lent.pk])).status_code == 404
    response = client.get(reverse("ill:lending_scan"), {"barcode": lent.number})
    assert response["Location"] == reverse("ill:lending_list")


def test_list_queues_and_filters(client, inst, setup, partner, lent, rs_staff):
    failed = f.lending_request(inst, setup=setup, partner_=partner,
                               citation={"title": "Nowhere to be found"})
    client.force_login(rs_staff)
    response = client.get(reverse("ill:lending_list"))
    counts = {key: n for key, _label, n in response.context["queues"]}
    assert counts["new"] == 1 and counts["locate_failed"] == 1 and counts["pick_list"] == 1
    rows = client.get(reverse("ill:lending_list"), {"queue": "locate_failed"}).context["rows"]
    assert [r.pk for r in rows] == [failed.pk]
    rows = client.get(reverse("ill:lending_list"), {"q": "NRL-1"}).context["rows"]
    assert [r.pk for r in rows] == [lent.pk]


def test_the_list_costs_the_same_queries_whatever_the_page_size(
        client, inst, setup, partner, rs_staff, django_assert_max_num_queries):
    for i in range(30):
        f.lending_request(inst, setup=setup, partner_=partner, citation={"title": f"T{i}"},
                          locate=False)
    client.force_login(rs_staff)
    for size in (25, 200):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("ill:lending_list"), {"size": size})
        assert response.status_code == 200
    with django_assert_max_num_queries(12):
        client.get(reverse("ill:lending_list"), {"queue": "overdue", "service_type": "loan"})


def test_pick_list_prints_pull_slips_with_barcodes_and_marks_them(
        client, inst, setup, partner, rs_staff, django_assert_max_num_queries):
    made = []
    for i in range(5):
        item = f.item(setup.stacks, title=f"Pick {i}", barcodes=(f"PK{i}",))
        made.append(f.lending_request(inst, setup=setup, partner_=partner,
                                      citation={"title": item.bib.title}))
    client.force_login(rs_staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("ill:lending_pick_list"))
    assert len(response.context["rows"]) == 5
    response = client.post(reverse("ill:lending_pull_slips"), {"ids": [r.pk for r in made]})
    assert response.status_code == 302
    slips = client.get(response["Location"])
    assert slips.text.count("<svg") == 5 and made[0].number in slips.text
    assert all(r.pull_slip_printed_at for r in LendingRequest.objects.filter(
        pk__in=[r.pk for r in made]))
    assert client.get(reverse("ill:lending_pick_list")).context["rows"] == []
    # Printed ones are still there to reprint.
    again = client.get(reverse("ill:lending_pick_list"), {"printed": "yes"})
    assert len(again.context["rows"]) == 5


def test_scanning_a_slip_or_the_item_opens_the_request(client, lent, rs_staff):
    client.force_login(rs_staff)
    for value in (lent.number.lower(), "ota100"):
        response = client.get(reverse("ill:lending_scan"), {"barcode": value})
        assert response["Location"] == reverse("ill:lending_detail", args=[lent.pk])


def test_the_shipping_slip_has_the_partner_and_a_barcode(client, lent, rs_staff):
    client.force_login(rs_staff)
    response = client.get(reverse("ill:lending_shipping_slip", args=[lent.pk]))
    assert response.status_code == 200
    assert "National Repository" in response.text and "<svg" in response.text


def test_bulk_will_supply_and_ship_report_each_refusal(client, inst, setup, partner, lent,
                                                       rs_staff):
    failed = f.lending_request(inst, setup=setup, partner_=partner,
                               citation={"title": "Nowhere"})
    client.force_login(rs_staff)
    response = client.post(reverse("ill:lending_bulk"), {
        "operation": "will_supply", "ids": [lent.pk, failed.pk]}, follow=True)
    lent.refresh_from_db()
    failed.refresh_from_db()
    assert lent.status == S.WILL_SUPPLY and failed.status == S.LOCATE_FAILED
    assert failed.number in response.text
    client.post(reverse("ill:lending_bulk"), {"operation": "ship", "ids": [lent.pk]})
    lent.refresh_from_db()
    assert lent.status == S.SHIPPED_PHYSICAL
    assert "not scanned" in lent.history.last().note


def test_the_barcode_decodes_back_to_the_request_number():
    assert decode_widths(widths("OTA-L-2026-000042")) == "OTA-L-2026-000042"
    # Start B (211214) and stop (2331112) frame every barcode; "A" is value 33 (111323).
    assert widths("A").startswith("211214111323") and widths("A").endswith("2331112")


def test_the_detail_page_costs_a_fixed_number_of_queries(client, inst, setup, partner, lent,
                                                          rs_staff,
                                                          django_assert_max_num_queries):
    for i in range(5):  # more candidates and history must not mean more queries
        f.item(setup.stacks, title="Seitsemän veljestä", barcodes=(f"OTA2{i}",))
    from ill.lending import services as ls

    ls.lending_request_will_supply(request=lent, user=rs_staff)
    client.force_login(rs_staff)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("ill:lending_detail", args=[lent.pk]))
    assert response.status_code == 200

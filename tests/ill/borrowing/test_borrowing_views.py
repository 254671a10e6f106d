import pytest
from django.urls import reverse

from ill.models import BorrowingRequest
from kauko import roles
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db










@pytest.fixture
def request_obj(inst, setup, partner):
    return f.borrowing_request(inst, setup=setup, partners=[partner])


def _action(client, r, name, **data):
    payload = {f"{name}-version": r.version, **{f"{name}-{k}": v for k, v in data.items()}}
    return client.post(reverse("ill:borrowing_action", args=[r.pk, name]), payload)


def test_staff_create_a_request_for_a_patron_by_card_number(client, inst, setup, rs_staff,
                                                           partner):
    patron = f.patron(inst, barcode="CARD-1", pickup_desk=setup.desk)
    other = f.partner(inst, code="RDL", name="Royal Danish")
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"), {
        "patron_barcode": "CARD-1", "request_type": "loan", "title": "A rare book",
        "author": "Someone", "partners": [other.pk, partner.pk],
    })
    created = BorrowingRequest.objects.get(title="A rare book")
    assert response.status_code == 302
    assert response["Location"] == reverse("ill:borrowing_detail", args=[created.pk])
    assert created.patron == patron and created.created_by == rs_staff
    assert [e.partner for e in created.rota.all()] == [other, partner]


def test_an_unknown_card_number_is_answered_on_the_form(client, inst, setup, rs_staff):
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"), {
        "patron_barcode": "NOBODY", "request_type": "loan", "title": "X"})
    assert response.status_code == 200
    assert "No patron has the card NOBODY" in response.text
    assert not BorrowingRequest.objects.exists()


def test_the_detail_page_offers_only_the_actions_valid_now(client, request_obj, rs_staff):
    client.force_login(rs_staff)
    response = client.get(reverse("ill:borrowing_detail", args=[request_obj.pk]))
    offered = set(a.name for a, _form in response.context["actions"])
    assert {"send", "rota", "cancel", "purchase", "own_collection"} <= offered
    assert not offered & {"receive", "renew", "complete", "will_supply"}


def test_sending_from_the_detail_page_moves_the_request_and_mails_the_partner(
    client, request_obj, rs_staff, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(rs_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(client, request_obj, "send")
    assert response.status_code == 302
    request_obj.refresh_from_db()
    assert request_obj.status == S.SENT
    assert [m.to for m in mailoutbox] == [[request_obj.partner.email]]
    assert request_obj.number in mailoutbox[0].subject + mailoutbox[0].body


def test_an_invalid_action_is_refused_with_a_clear_message(client, request_obj, rs_staff):
    client.force_login(rs_staff)
    response = _action(client, request_obj, "receive", barcode="X1")
    request_obj.refresh_from_db()
    assert request_obj.status == S.CREATED
    page = client.get(response["Location"])
    assert "is not possible now" in page.text


def test_a_stale_page_does_not_overwrite_a_colleagues_change(client, request_obj, rs_staff):
    client.force_login(rs_staff)
    stale_version = request_obj.version
    _action(client, request_obj, "send")
    response = client.post(reverse("ill:borrowing_action", args=[request_obj.pk, "cancel"]),
                           {"cancel-version": stale_version, "cancel-reason": "x"})
    page = client.get(response["Location"])
    assert "Someone else changed" in page.text
    request_obj.refresh_from_db()
    assert request_obj.status == S.SENT


def test_actions_refuse_get(client, request_obj, rs_staff):
    client.force_login(rs_staff)
    response = client.get(reverse("ill:borrowing_action", args=[request_obj.pk, "send"]))
    assert response.status_code == 405


def test_actions_refuse_anonymous_visitors(client, request_obj):
    response = _action(client, request_obj, "send")
    assert response.status_code == 302 and reverse("login") in response["Location"]
    request_obj.refresh_from_db()
    assert request_obj.status == S.CREATED


def test_actions_refuse_staff_without_the_role(client, inst, request_obj):
    client.force_login(f.staff(inst, roles.CIRCULATION))
    assert _action(client, request_obj, "send").status_code == 403
    request_obj.refresh_from_db()
    assert request_obj.status == S.CREATED


def test_another_institutions_request_is_not_found(client, request_obj):
    other = f.institution("KAISA")
    client.force_login(f.staff(other, roles.RESOURCE_SHARING))
    assert client.get(reverse("ill:borrowing_detail", args=[request_obj.pk])).status_code == 404
    assert _action(client, request_obj, "send").status_code == 404
    request_obj.refresh_from_db()
    assert request_obj.status == S.CREATED


def test_the_list_shows_queues_and_filters_by_queue(client, inst, setup, rs_staff, partner):
    ready = f.borrowing_request(inst, setup=setup, partners=[partner],
                                citation={"title": "Waiting book"})
    sent = f.borrowing_request(inst, setup=setup, partners=[partner],
                               citation={"title": "Sent book"})
    BorrowingRequest.objects.filter(pk=sent.pk).update(status=S.SENT)
    client.force_login(rs_staff)
    response = client.get(reverse("ill:borrowing_list"), {"queue": "ready"})
    assert ready.number in response.text and sent.number not in response.text
    queues = {key: count for key, _label, count in response.context["queues"]}
    assert queues["ready"] == 1


def test_the_list_needs_the_same_few_queries_whatever_the_page_size(
    client, inst, setup, rs_staff, partner, django_assert_max_num_queries
):
    for i in range(30):
        f.borrowing_request(inst, setup=setup, partners=[partner], citation={"title": f"B{i}"})
    client.force_login(rs_staff)
    for size in (25, 100):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("ill:borrowing_list"), {"size": size,
                                                                  "status": ["created"]})
        assert response.status_code == 200
        assert len(response.context["rows"]) == min(size, 30)


def test_the_detail_page_needs_a_bounded_number_of_queries(
    client, request_obj, rs_staff, django_assert_max_num_queries
):
    client.force_login(rs_staff)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("ill:borrowing_detail", args=[request_obj.pk])).status_code \
            == 200


def test_bulk_send_reports_each_refusal_by_number(client, inst, setup, rs_staff, partner):
    good = f.borrowing_request(inst, setup=setup, partners=[partner])
    no_partner = f.borrowing_request(inst, setup=setup)
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_bulk"), {
        "operation": "send", "ids": [good.pk, no_partner.pk]})
    page = client.get(response["Location"])
    assert BorrowingRequest.objects.get(pk=good.pk).status == S.SENT
    assert BorrowingRequest.objects.get(pk=no_partner.pk).status == S.CREATED
    assert no_partner.number in page.text and "no partner left" in page.text


def test_a_message_to_an_iso_partner_goes_out_and_is_offered_only_for_iso_partners(
    client, inst, setup, rs_staff, request_obj, django_capture_on_commit_callbacks
):
    from unittest import mock

    from ill.models import OutboxMessage

    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_obj.pk]))
    assert "partner_note" not in {a.name for a, _form in page.context["actions"]}

    iso = f.partner(inst, code="ISO1", profile_type="iso18626", agency_id_value="FI-ISO1",
                    iso_endpoint_url="http://127.0.0.1:9/iso18626")
    iso_request = f.borrowing_request(inst, setup=setup, partners=[iso])
    BorrowingRequest.objects.filter(pk=iso_request.pk).update(status=S.SENT, partner=iso)
    iso_request.refresh_from_db()
    # The one outbound HTTP call is the only thing kept off the network here.
    with mock.patch("urllib.request.urlopen", side_effect=OSError("partner down")), \
            django_capture_on_commit_callbacks(execute=True):
        response = _action(client, iso_request, "partner_note", note="Is it on its way?")
    assert response.status_code == 302
    row = OutboxMessage.objects.get(borrowing_request=iso_request)
    assert b"Is it on its way?" in bytes(row.xml if isinstance(row.xml, bytes)
                                          else row.xml.encode())
    assert iso_request.history.filter(action="partner_note").exists()


def test_edit_and_bulk_never_reach_another_institutions_request(client, request_obj):
    other = f.institution("KAISA")
    client.force_login(f.staff(other, roles.RESOURCE_SHARING))
    edit = client.post(reverse("ill:borrowing_edit", args=[request_obj.pk]),
                       {"version": request_obj.version, "title": "Hijacked"})
    assert edit.status_code == 404
    client.post(reverse("ill:borrowing_bulk"), {"operation": "cancel", "ids": [request_obj.pk],
                                                "reason": "x"})
    request_obj.refresh_from_db()
    assert (request_obj.title, request_obj.status) == ("Borrowed book", S.CREATED)


def test_edit_refuses_staff_who_may_only_look(client, inst, request_obj):
    client.force_login(f.staff(inst, roles.CIRCULATION))
    response = client.post(reverse("ill:borrowing_edit", args=[request_obj.pk]),
                           {"version": request_obj.version, "title": "Changed"})
    assert response.status_code == 403
    request_obj.refresh_from_db()
    assert request_obj.title == "Borrowed book"

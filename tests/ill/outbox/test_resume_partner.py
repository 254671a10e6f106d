"""After an outage longer than the retry ladder: staff send again everything that failed to a
partner in one action, and the outbox resumes by itself when the partner answers again."""

import datetime

import pytest
from django.utils import timezone

from ill.borrowing import services as bs
from ill.models import HistoryEntry, OutboxMessage
from ill.outbox import services as iso_outbound
from tests import factories as f
from tests.ill.iso_world import ok_answer

pytestmark = pytest.mark.django_db
OB = OutboxMessage.State


def down(url, data):
    return iso_outbound.PostResult(None, b"", "ConnectionRefusedError: down")


def sent_request(world, django_capture_on_commit_callbacks, partner=None):
    request = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                  partners=[partner or world.kaisa_at_ota])
    with django_capture_on_commit_callbacks(execute=True):
        return bs.borrowing_request_send(request=request, user=world.ota_staff)


@pytest.fixture
def outage(settings, world, wire, django_capture_on_commit_callbacks):
    """Two requests whose first message to KAISA failed after all its attempts, one refused
    by KAISA, and one failed to another partner."""
    settings.ISO18626_MAX_ATTEMPTS = 1
    wire.answer = down
    failed = [sent_request(world, django_capture_on_commit_callbacks) for _ in range(2)]
    other = f.partner(world.ota, code="NRL", agency_id_value="FI-NRL",
                      profile_type="iso18626", iso_version="1.2", agency_id_type="ISIL",
                      iso_endpoint_url="http://nrl.test/iso18626")
    elsewhere = sent_request(world, django_capture_on_commit_callbacks, partner=other)
    refused = sent_request(world, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(borrowing_request=refused).update(state=OB.ERROR)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OB.FAILED, OB.ERROR}
    wire.sent.clear()
    wire.answer = ok_answer
    return {"failed": failed, "elsewhere": elsewhere, "refused": refused}


def state_of(request):
    return OutboxMessage.objects.get(borrowing_request=request).state


def test_staff_send_again_everything_that_failed_to_a_partner_in_one_action(
        world, wire, outage, client, django_capture_on_commit_callbacks):
    first, second = outage["failed"]
    row = OutboxMessage.objects.get(borrowing_request=first)
    client.force_login(world.ota_staff)
    page = client.get(f"/borrowing/{first.pk}/")
    assert b'data-testid="resend-partner"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/iso18626/outbox/{row.pk}/resend-partner/")
    assert response.status_code == 302 and response["Location"] == f"/borrowing/{first.pk}/"
    assert state_of(first) == state_of(second) == OB.SENT
    assert state_of(outage["elsewhere"]) == OB.FAILED  # another partner's: untouched
    assert state_of(outage["refused"]) == OB.ERROR  # refused: each needs a look
    assert len(wire.sent) == 2
    assert HistoryEntry.objects.filter(borrowing_request=second, action="iso_resend",
                                       user=world.ota_staff).exists()


def test_sending_again_everything_is_refused_to_anyone_but_the_institutions_rs_staff(
        world, wire, outage, client):
    row = OutboxMessage.objects.get(borrowing_request=outage["failed"][0])
    url = f"/iso18626/outbox/{row.pk}/resend-partner/"
    response = client.post(url)
    assert response.status_code == 302 and "/login" in response["Location"]  # anonymous
    client.force_login(world.ota_staff)
    assert client.get(url).status_code == 405  # GET changes nothing
    client.force_login(world.ota_desk)
    assert client.post(url).status_code == 403  # the desk's role
    page = client.get(f"/borrowing/{outage['failed'][0].pk}/")
    assert b'data-testid="resend-partner"' not in page.content
    client.force_login(world.kaisa_staff)
    assert client.post(url).status_code == 404  # another institution's
    assert state_of(outage["failed"][0]) == OB.FAILED and wire.sent == []


def test_the_admin_action_sends_again_everything_that_failed_to_the_selected_partners(
        world, wire, outage, client, django_capture_on_commit_callbacks):
    row = OutboxMessage.objects.get(borrowing_request=outage["failed"][0])
    client.force_login(world.ota_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/ill/outboxmessage/", {
            "action": "resend_partners", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert [state_of(r) for r in outage["failed"]] == [OB.SENT, OB.SENT]
    assert state_of(outage["elsewhere"]) == OB.FAILED


def test_the_sweeper_probes_a_failed_partner_and_resumes_everything_when_it_answers(
        world, wire, outage, django_capture_on_commit_callbacks):
    first, second = outage["failed"]
    # Failed: nothing more until the probe is due.
    assert iso_outbound.sweep() == 0 and wire.sent == []
    OutboxMessage.objects.filter(state=OB.FAILED).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    problems = HistoryEntry.objects.filter(action="iso_delivery_problem").count()

    # Still down: one message per partner is tried, fails quietly, and waits for the next.
    wire.answer = down
    iso_outbound.sweep()
    assert len(wire.sent) == 2  # one to KAISA, one to NRL
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OB.FAILED, OB.ERROR}
    assert HistoryEntry.objects.filter(action="iso_delivery_problem").count() == problems
    assert iso_outbound.sweep() == 0 and len(wire.sent) == 2
    assert all(r.next_attempt_at > timezone.now() + datetime.timedelta(minutes=10)
               for r in OutboxMessage.objects.filter(state=OB.FAILED))

    # KAISA answers again: its probe goes through and every failed message to it follows.
    OutboxMessage.objects.filter(state=OB.FAILED).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    wire.sent.clear()
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        iso_outbound.sweep()
    assert state_of(first) == state_of(second) == state_of(outage["elsewhere"]) == OB.SENT
    assert state_of(outage["refused"]) == OB.ERROR
    assert len(wire.sent) == 3
    assert HistoryEntry.objects.filter(borrowing_request__in=[first, second],
                                       action="iso_resend", user=None).count() == 1

"""The outbox: written with the change, posted after commit in order, retried with backoff
on network errors and 5xx, not retried on an ERROR confirmation, swept when the broker
missed it, resent by staff."""

import datetime

import pytest
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.borrowing.messages import borrowing_event
from ill.models import BorrowingRequest, IsoMessage, OutboxMessage
from ill.outbox import services as iso_outbound
from tests import factories as f
from tests.ill.iso_world import ok_answer

pytestmark = pytest.mark.django_db
OB = OutboxMessage.State
BS = BorrowingRequest.Status


def fresh(r):
    return type(r).objects.get(pk=r.pk)


def down(url, data):
    return iso_outbound.PostResult(None, b"", "ConnectionRefusedError: down")


def http500(url, data):
    return iso_outbound.PostResult(500, b"oops", "HTTP Error 500")


def refused(url, data):
    message = iso.parse(data)
    conf = iso.confirmation_for(message, "ERROR", iso.ErrorType.UNRECOGNISED_DATA_VALUE,
                                "we do not know you")
    return iso_outbound.PostResult(200, iso.build(conf, message.version))


@pytest.fixture
def request_(world):
    return f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                               partners=[world.kaisa_at_ota])


def test_the_outbox_row_is_written_in_the_same_transaction(world, wire, request_):
    # No commit callbacks run here: nothing is posted, but the row exists with the change.
    br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    assert row.state == OB.PENDING and row.chain == f"b:{br.pk}" and row.sequence == 1
    assert wire.sent == []
    assert row.message.direction == "out" and row.message.borrowing_request == br


def test_a_failed_change_leaves_no_message(world, wire, request_):
    with pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            bs.borrowing_request_send(request=request_, user=world.ota_staff)
            raise RuntimeError("the change fails after the message was queued")
    assert not OutboxMessage.objects.exists()


def test_messages_of_one_request_leave_in_order(world, wire, request_,
                                                django_capture_on_commit_callbacks):
    wire.answer = down
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    assert row.state == OB.PENDING and row.attempts == 1
    with django_capture_on_commit_callbacks(execute=True):
        borrowing_event(request=br, event="notification", note="second")
    # The second waits behind the first: nothing more went out.
    assert len(wire.sent) == 1
    wire.answer = ok_answer
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    iso_outbound.sweep()
    assert [iso.parse(d).kind.value for _u, d, _h in wire.sent] == [
        "request", "request", "requestingAgencyMessage"]
    assert list(OutboxMessage.objects.values_list("state", flat=True)) == [OB.SENT, OB.SENT]
    stamps = list(IsoMessage.objects.filter(direction="out").values_list("timestamp",
                                                                         flat=True))
    assert stamps == sorted(stamps) and len(set(stamps)) == 2


def test_backoff_then_needs_attention_after_the_last_attempt(
        settings, world, wire, request_, django_capture_on_commit_callbacks):
    settings.ISO18626_MAX_ATTEMPTS = 3
    settings.ISO18626_RETRY_BASE_SECONDS = 10
    wire.answer = http500
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    delay = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 5 < delay <= 10 and row.attempts == 1
    assert iso_outbound.sweep() == 0  # not due yet
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    iso_outbound.sweep()
    row = fresh(row)
    assert row.attempts == 2
    assert 15 < (row.next_attempt_at - timezone.now()).total_seconds() <= 20
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    iso_outbound.sweep()
    row = fresh(row)
    assert row.state == OB.FAILED and row.attempts == 3
    br = fresh(br)
    assert br.needs_attention and "3 attempts" in br.attention_reason
    assert len(wire.sent) == 3
    assert [iso_outbound.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]


def test_an_error_confirmation_is_not_retried_and_staff_can_resend(
        world, wire, request_, django_capture_on_commit_callbacks, client):
    wire.answer = refused
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    assert row.state == OB.ERROR and "we do not know you" in row.last_error
    assert row.message.confirmation_status == "ERROR"
    assert fresh(br).needs_attention
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(hours=1))
    assert iso_outbound.sweep() == 0 and len(wire.sent) == 1

    wire.answer = ok_answer
    client.force_login(world.ota_staff)
    page = client.get(f"/borrowing/{br.pk}/")
    assert b"we do not know you" in page.content and b"iso-conversation" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/iso18626/outbox/{row.pk}/resend/")
    assert response.status_code == 302
    row = fresh(row)
    assert row.state == OB.SENT
    first, second = (iso.parse(d).body.header.timestamp for _u, d, _h in wire.sent)
    assert second > first  # a fresh timestamp, or the partner would replay its answer


def test_the_sweeper_sends_what_never_reached_the_broker(
        world, wire, request_, monkeypatch, django_capture_on_commit_callbacks):
    from ill.outbox import tasks as iso_tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(iso_tasks.deliver_outbox, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    assert row.handed_to_broker_at is None and wire.sent == []
    monkeypatch.undo()
    monkeypatch.setattr(iso_outbound, "post", wire.post)
    wire.answer = ok_answer
    assert iso_outbound.sweep() == 1
    row = fresh(row)
    assert row.state == OB.SENT and row.handed_to_broker_at is not None


def test_a_send_interrupted_by_a_dead_worker_is_taken_over(world, wire, request_):
    wire.answer = ok_answer
    bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    # A worker claimed it and died: a second run leaves a fresh claim alone…
    OutboxMessage.objects.update(state=OB.SENDING, sending_since=timezone.now())
    assert iso_outbound.deliver_chain(row.chain) == 0
    # …and takes over a stale one.
    OutboxMessage.objects.update(sending_since=timezone.now() - datetime.timedelta(minutes=5))
    assert iso_outbound.sweep() == 1
    assert fresh(row).state == OB.SENT and len(wire.sent) == 1
    # Running the task again sends nothing twice.
    assert iso_outbound.deliver_chain(row.chain) == 0


def test_a_confirmed_message_keeps_its_confirmation_and_its_row_is_sent(
        world, wire, request_, django_capture_on_commit_callbacks):
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.select_related("message").get()
    assert row.state == OB.SENT and row.sent_at is not None and row.last_error == ""
    message = row.message
    assert message.http_status == 200 and message.confirmation_status == "OK"
    assert message.error_type == "" and message.error_value == ""
    answer = iso.parse(message.confirmation_raw.encode())
    assert answer.kind == iso.MessageKind.REQUEST_CONFIRMATION and answer.body.is_ok


def test_our_credentials_at_the_partner_are_sent_but_masked_in_the_log(world, wire, request_,
                                                                       client):
    partner = world.kaisa_at_ota
    partner.outbound_account_id = "ota-at-kaisa"
    partner.outbound_security_code = "our-s3cret"
    partner.save()
    bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    assert "our-s3cret" in row.xml  # what goes to the partner has it
    assert "our-s3cret" not in row.message.raw  # the log every staff role reads does not
    assert "ota-at-kaisa" not in row.message.raw

    client.force_login(world.ota_staff)
    for url in (f"/admin/ill/outboxmessage/{row.pk}/change/",
                f"/admin/ill/isomessage/{row.message.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert b"our-s3cret" not in page.content and b"********" in page.content, url

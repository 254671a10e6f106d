"""The outbox never loops or lies: an answer the database cannot store, a worker that died
on every attempt, a slow partner, an outage longer than the retry ladder."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from ill.borrowing import services as bs
from ill.models import OutboxMessage
from ill.outbox import services as iso_outbound
from tests import factories as f
from tests.ill.iso_world import ok_answer

pytestmark = pytest.mark.django_db
OB = OutboxMessage.State


def fresh(r):
    return type(r).objects.get(pk=r.pk)


@pytest.fixture
def request_(world):
    return f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                               partners=[world.kaisa_at_ota])


def nul_answer(url, data):
    return iso_outbound.PostResult(200, b"<?xml version='1.0'?>\x00<garbage>\x00</garbage>")


def nul_500(url, data):
    return iso_outbound.PostResult(500, b"Internal \x00 error", "HTTP Error 500: \x00boom")


@pytest.fixture
def refusing_database():
    """The database refuses to store a confirmation containing "POISON", as PostgreSQL
    refuses text with a NUL byte in it (SQLite would store it)."""
    table = "ill_isomessage"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TRIGGER refuse_poison BEFORE UPDATE ON {table} "
            f"WHEN instr(NEW.confirmation_raw, 'POISON') > 0 OR instr(NEW.error_value, "
            f"'POISON') > 0 BEGIN SELECT RAISE(ABORT, 'unstorable text'); END")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS refuse_poison")


def poison_500(url, data):
    return iso_outbound.PostResult(503, b"POISON", "HTTP Error 503: POISON")


def test_a_nul_byte_in_the_partners_answer_is_stored_without_it(
        world, wire, request_, django_capture_on_commit_callbacks):
    wire.answer = nul_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.select_related("message").get()
    assert row.state == OB.ERROR and row.attempts == 1
    assert "\x00" not in row.message.confirmation_raw
    assert "<garbage>" in row.message.confirmation_raw  # the rest is kept for staff
    assert "\x00" not in row.last_error and "\x00" not in row.message.error_value
    assert fresh(br).needs_attention


def test_a_nul_byte_in_a_failed_answer_is_stored_without_it_and_retried(
        world, wire, request_, django_capture_on_commit_callbacks):
    wire.answer = nul_500
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.select_related("message").get()
    assert row.state == OB.PENDING and row.attempts == 1
    assert row.message.confirmation_raw == "Internal \ufffd error"
    assert "\x00" not in row.last_error and "\x00" not in row.message.error_value


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the refusal is a SQLite trigger")
def test_an_answer_the_database_refuses_counts_as_an_attempt_and_never_leaves_it_sending(
        settings, world, wire, request_, refusing_database, django_capture_on_commit_callbacks):
    settings.ISO18626_MAX_ATTEMPTS = 2
    wire.answer = poison_500
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = fresh(OutboxMessage.objects.get())
    assert row.state == OB.PENDING and row.attempts == 1
    assert "could not be stored" in row.last_error
    assert row.next_attempt_at > timezone.now()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    iso_outbound.sweep()
    row = fresh(row)
    assert row.state == OB.FAILED and row.attempts == 2
    assert fresh(br).needs_attention
    # Stopped at the maximum: the sweeper sends nothing more.
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(hours=1))
    assert iso_outbound.sweep() == 0 and len(wire.sent) == 2


def test_a_claim_that_died_at_the_last_attempt_is_not_sent_again_but_needs_attention(
        settings, world, wire, request_):
    settings.ISO18626_MAX_ATTEMPTS = 3
    wire.answer = ok_answer
    br = bs.borrowing_request_send(request=request_, user=world.ota_staff)
    # Three workers each died mid-send (the third one too): the row is still "sending".
    OutboxMessage.objects.update(state=OB.SENDING, attempts=3,
                                 sending_since=timezone.now() - datetime.timedelta(hours=1))
    iso_outbound.sweep()
    row = OutboxMessage.objects.get()
    assert wire.sent == []
    assert row.state == OB.FAILED and row.attempts == 3
    br = fresh(br)
    assert br.needs_attention and "3 attempts" in br.attention_reason

"""The outbox never loops or lies: an answer the database cannot store, a worker that died
on every attempt, a slow partner, an outage longer than the retry ladder."""

import datetime
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
    # Stopped at the maximum: the sweeper sends nothing more (until the partner's next
    # probe, a quarter of an hour later).
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(minutes=10)
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


# --- a slow partner (point 12) ---------------------------------------------------------------


class TricklingPartner(BaseHTTPRequestHandler):
    """Answers 200 one byte at a time, 0.1 s apart, for about four seconds: every single
    read is quick, the whole answer is not."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nX-Slow: " + b"x" * 40
        try:
            for byte in head:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass  # the client hung up: that is the point

    def log_message(self, *args):
        pass


@pytest.fixture
def trickling_partner():
    server = ThreadingHTTPServer(("127.0.0.1", 0), TricklingPartner)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/iso18626"
    server.shutdown()
    server.server_close()


def test_an_attempt_on_a_trickling_partner_ends_at_its_deadline(trickling_partner):
    started = time.monotonic()
    result = iso_outbound.post(trickling_partner, b"<x/>", {"Content-Type": "application/xml"},
                               1.0)
    took = time.monotonic() - started
    assert took < 2.5, f"the attempt took {took:.1f} s"
    assert result.http_status is None and "Timeout" in result.error


def test_a_quick_partner_is_answered_as_before():
    # The deadline changes nothing for a partner that answers in time.
    class Quick(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"<ok>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quick)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = iso_outbound.post(f"http://127.0.0.1:{server.server_address[1]}/", b"<x/>",
                                   {}, 2.0)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.http_status, result.body, result.error) == (200, b"<ok>", "")


def test_the_attempt_deadline_stays_inside_the_claims_lease(settings):
    settings.ISO18626_HTTP_TIMEOUT = 120
    settings.ISO18626_CLAIM_LEASE_SECONDS = 40
    assert iso_outbound.attempt_deadline() == 30
    settings.ISO18626_HTTP_TIMEOUT = 10
    assert iso_outbound.attempt_deadline() == 10


def test_a_late_first_attempt_does_not_overwrite_what_the_second_recorded(
        world, wire, request_):
    bs.borrowing_request_send(request=request_, user=world.ota_staff)
    row = OutboxMessage.objects.get()
    calls = []

    def slow_then_failing(url, data):
        calls.append(url)
        if len(calls) == 1:
            # The first attempt hangs past its claim's lease: a second worker takes over
            # and the partner confirms that one…
            OutboxMessage.objects.update(
                sending_since=timezone.now() - datetime.timedelta(minutes=5))
            assert iso_outbound.deliver_chain(row.chain) == 1
            # …then the first attempt's late answer arrives: an error.
            return iso_outbound.PostResult(None, b"", "TimeoutError: timed out")
        return ok_answer(url, data)

    wire.answer = slow_then_failing
    iso_outbound.deliver_chain(row.chain)
    row = OutboxMessage.objects.select_related("message").get()
    assert len(calls) == 2
    assert row.state == OB.SENT and row.last_error == ""
    assert row.message.confirmation_status == "OK" and row.message.error_value == ""

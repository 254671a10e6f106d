"""The partner endpoint under attack and strain (issue 13, points 5-11): every message gets
a proper answer, credentials are masked, checked cheaply and in constant time, replays are
told from forgeries, and what strangers post is bounded and pruned."""

import importlib
import io
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.db.models.signals import pre_save
from django.utils import timezone
from lxml import etree

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.inbound.services import iso_traffic_prune
from ill.inbound.tasks import PRUNE_TASK
from ill.models import BorrowingRequest, IsoMessage, LendingRequest, OutboxMessage
from ill.outbox.wire import mask_credentials
from tests import factories as f
from tests.ill.inbound.test_iso_endpoint import error_of, ram, request_msg, sam
from tests.ill.iso_world import ok_answer, post_in

pytestmark = pytest.mark.django_db
ET = iso.ErrorType


def post(client, data, **extra):
    return client.post("/iso18626", data, content_type="application/xml", **extra)


def answer_of(response):
    assert response.status_code == 200, response.content
    return iso.parse(response.content).body


# --- 8. no 500s ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-le"])
def test_a_message_in_utf16_or_utf32_is_answered_and_stored_readably(client, world, encoding):
    text = request_msg("WIDE-1").decode("utf-8").replace('encoding="UTF-8"',
                                                         f'encoding="{encoding.upper()}"')
    conf = answer_of(post(client, text.encode(encoding)))
    assert conf.is_ok, conf.error_data
    stored = IsoMessage.objects.get(direction="in")
    # Read as UTF-8 it was full of NUL characters, which PostgreSQL refuses to store.
    assert "\x00" not in stored.raw and "<ill:requestingAgencyRequestId>WIDE-1<" in stored.raw
    assert LendingRequest.objects.get().partner_request_id == "WIDE-1"


def test_an_unreadable_message_with_nul_characters_is_stored_without_them(world):
    data = request_msg("NUL-1").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = data.replace("<ill:timestamp>", "<ill:nothing>").replace(
        "</ill:timestamp>", "</ill:nothing>").encode("utf-16")
    _reply, conf = post_in(data)
    assert error_of(conf)[0] == ET.BADLY_FORMED_MESSAGE  # no timestamp
    assert "\x00" not in IsoMessage.objects.get().raw


def test_a_request_id_longer_than_we_can_keep_is_refused_not_a_server_error(client, world):
    rid = "X" * 101
    kind, value = error_of(answer_of(post(client, request_msg(rid))))
    assert kind == ET.UNRECOGNISED_DATA_VALUE and "longer than 100" in value
    assert not LendingRequest.objects.exists()
    stored = IsoMessage.objects.get()
    assert stored.confirmation_status == "ERROR" and len(stored.requesting_agency_request_id) == 100
    # 100 is still fine.
    assert answer_of(post(client, request_msg("Y" * 100))).is_ok


def test_a_maximum_cost_we_cannot_record_is_refused(client, world):
    data = request_msg("COST-1").replace(
        b"</ill:serviceInfo>",
        b"</ill:serviceInfo><ill:billingInfo><ill:maximumCosts><ill:currencyCode>EUR"
        b"</ill:currencyCode><ill:monetaryValue>123456789</ill:monetaryValue>"
        b"</ill:maximumCosts></ill:billingInfo>")
    kind, value = error_of(answer_of(post(client, data)))
    assert "maximumCosts" in value and not LendingRequest.objects.exists()


@pytest.fixture
def lent(world, wire, django_capture_on_commit_callbacks):
    """KAISA's lending request from OTA's request L-1 (what KAISA sends is confirmed OK)."""
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        _r, conf = post_in(request_msg("L-1"))
    assert conf.is_ok
    return LendingRequest.objects.get()


@pytest.fixture
def sent_to_kaisa(world, wire, django_capture_on_commit_callbacks):
    """OTA's borrowing request, sent to KAISA (which only confirms)."""
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota])
        return bs.borrowing_request_send(request=br, user=world.ota_staff)


def _collide(times):
    """Another message about the same request takes the outbox's next sequence number
    between our reading it and our writing it (what two concurrent StatusRequests did)."""
    left = [times]

    def handler(sender, instance, **kwargs):
        if left[0] and instance.xml != "<x/>" and instance.chain.startswith("l:"):
            left[0] -= 1
            other = IsoMessage.objects.create(direction="out", institution=instance.institution)
            OutboxMessage.objects.create(
                message=other, institution=instance.institution, partner=instance.partner,
                chain=instance.chain, sequence=instance.sequence, url=instance.url, xml="<x/>")

    pre_save.connect(handler, sender=OutboxMessage, dispatch_uid="collide", weak=False)
    return handler


@pytest.fixture
def colliding():
    yield _collide
    pre_save.disconnect(sender=OutboxMessage, dispatch_uid="collide")


def test_concurrent_status_requests_on_one_request_are_both_answered(
        world, lent, colliding, django_capture_on_commit_callbacks):
    before = OutboxMessage.objects.filter(lending_request=lent).count()
    colliding(1)
    with django_capture_on_commit_callbacks(execute=True):
        reply, conf = post_in(ram("L-1", iso.Action.STATUS_REQUEST))
    assert reply.status == 200 and conf.is_ok, conf
    rows = OutboxMessage.objects.filter(lending_request=lent).order_by("sequence")
    assert rows.count() == before + 1
    assert [r.sequence for r in rows] == list(range(1, before + 2))
    assert rows.last().message.reason_for_message == "StatusRequestResponse"


def test_a_message_that_keeps_colliding_is_answered_busy_not_a_server_error(
        world, lent, colliding):
    colliding(5)
    reply, _conf = post_in(ram("L-1", iso.Action.STATUS_REQUEST))
    assert reply.status == 503 and b"send this one again" in reply.body


def _wsgi(data: bytes, **environ):
    """Our whole stack as a WSGI server calls it, without the test client's help."""
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/iso18626", "SERVER_NAME": "testserver",
           "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
           "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/xml",
           "HTTP_HOST": "testserver", **environ}
    status = []
    # As Django's test client does: the handler's signals would close the database
    # connection, and with it the test's transaction (PostgreSQL then says it is closed).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(WSGIHandler()(env, lambda s, headers, exc_info=None: status.append(s)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), body


def test_a_chunked_message_is_read_not_taken_for_an_empty_one(world):
    # gunicorn de-chunks the body, gives no CONTENT_LENGTH and says the stream ends.
    status, body = _wsgi(request_msg("CH-1"), HTTP_TRANSFER_ENCODING="chunked",
                         **{"wsgi.input_terminated": True})
    assert status == 200, body
    assert iso.parse(body).body.is_ok
    assert LendingRequest.objects.get().partner_request_id == "CH-1"


def test_a_chunked_message_is_still_limited_in_size(world, settings):
    settings.ISO18626_MAX_BYTES = 200
    status, _body = _wsgi(request_msg("CH-2"), HTTP_TRANSFER_ENCODING="chunked",
                          **{"wsgi.input_terminated": True})
    assert status == 413


def test_a_chunked_message_a_server_cannot_end_asks_for_a_length(world):
    status, _body = _wsgi(request_msg("CH-3"), HTTP_TRANSFER_ENCODING="chunked")
    assert status == 411
    assert not LendingRequest.objects.exists()


# --- 7. credentials are masked before storing -------------------------------------------------


@pytest.fixture
def guarded(world):
    partner = world.ota_at_kaisa
    partner.inbound_account_id = "ota-account"
    partner.set_inbound_security_code("s3cret-code")
    partner.set_inbound_token("tok-123")
    partner.save()
    return partner


def _auth(account="ota-account", code="s3cret-code"):
    return iso.RequestingAgencyAuthentication(account_id=account, security_code=code)


def test_credentials_are_masked_in_every_stored_message(world, guarded):
    _r, conf = post_in(request_msg("M-1", auth=_auth()))
    assert conf.is_ok
    _r, conf = post_in(request_msg("M-2", auth=_auth(code="a-wrong-guess")))
    assert conf.message_status == "ERROR"
    unreadable = request_msg("M-3", auth=_auth()).replace(b"<ill:timestamp>", b"<ill:x>").replace(
        b"</ill:timestamp>", b"</ill:x>")
    _r, conf = post_in(unreadable)
    assert error_of(conf)[0] == ET.BADLY_FORMED_MESSAGE
    raws = list(IsoMessage.objects.filter(direction="in").values_list("raw", flat=True))
    assert len(raws) == 3
    for raw in raws:
        assert "s3cret-code" not in raw and "a-wrong-guess" not in raw
        assert "ota-account" not in raw
        assert "<ill:securityCode>********</ill:securityCode>" in raw


def test_the_message_log_in_the_admin_shows_no_security_code(admin_client, world, guarded):
    post_in(request_msg("M-4", auth=_auth()))
    message = IsoMessage.objects.get(direction="in")
    page = admin_client.get(f"/admin/ill/isomessage/{message.pk}/change/")
    assert page.status_code == 200
    assert b"s3cret-code" not in page.content and b"********" in page.content


def test_masking_keeps_the_xml_and_copes_with_odd_markup():
    assert mask_credentials("<a><accountId>x</accountId><p:securityCode x='1'><![CDATA[y]]>"
                            "</p:securityCode></a>") == (
        "<a><accountId>********</accountId><p:securityCode x='1'>********</p:securityCode></a>")
    # Cut short (a truncated message): hidden to the end.
    assert mask_credentials("<a><securityCode>secr") == "<a><securityCode>********"


def test_credentials_already_stored_are_masked_by_the_migration(world):
    raw = request_msg("OLD-1", auth=_auth()).decode()
    old = IsoMessage.objects.create(direction="in", raw=raw)
    sent = IsoMessage.objects.create(direction="out", raw=raw)  # ours: the outbox's business
    migration = importlib.import_module("ill.migrations.0006_mask_stored_credentials")
    migration.mask(apps, None)
    old.refresh_from_db()
    sent.refresh_from_db()
    assert "s3cret-code" not in old.raw and "<ill:securityCode>********<" in old.raw
    assert sent.raw == raw


# --- 6. a replay is the same sender, authenticated, with the same content ---------------------


def test_an_unauthenticated_copy_sent_first_does_not_make_the_real_message_fail(
        world, lent, guarded):
    forged = iso.parse(ram("L-1", iso.Action.NOTIFICATION, note="real note")).body
    genuine = iso.RequestingAgencyMessage(
        header=iso.Header(**{**forged.header.__dict__,
                             "requesting_agency_authentication": _auth()}),
        action=forged.action, note=forged.note)
    _r, conf = post_in(iso.build(forged, "1.2"))
    assert "requestingAgencyAuthentication" in error_of(conf)[1]
    _r, conf = post_in(iso.build(genuine, "1.2"))
    assert conf.is_ok, conf.error_data
    assert lent.history.filter(action="partner_message", note="real note").count() == 1
    # Delivered again, it is a replay: the same answer, applied once.
    reply, conf = post_in(iso.build(genuine, "1.2"))
    assert conf.is_ok
    assert lent.history.filter(action="partner_message", note="real note").count() == 1
    # And a copy without credentials after it is still refused, not answered OK.
    _r, conf = post_in(iso.build(forged, "1.2"))
    assert conf.message_status == "ERROR"


def test_two_different_notes_with_the_same_timestamp_are_both_applied(world, lent):
    first = ram("L-1", iso.Action.NOTIFICATION, note="first note")
    stamp = iso.parse(first).body.header.timestamp
    second = iso.parse(ram("L-1", iso.Action.NOTIFICATION, note="second note")).body
    second.header.timestamp = stamp
    for data in (first, iso.build(second, "1.2")):
        _r, conf = post_in(data)
        assert conf.is_ok, conf.error_data
    notes = set(lent.history.filter(action="partner_message").values_list("note", flat=True))
    assert {"first note", "second note"} <= notes


# --- 5. ids we send cannot be guessed; credentials by default ---------------------------------


def test_a_forged_loaned_for_the_readable_request_number_is_refused(world, wire, sent_to_kaisa):
    br = sent_to_kaisa
    # What a forger can guess from another request's id: the number and the position.
    _r, conf = post_in(sam(f"{br.number}-1", iso.Status.LOANED, item_ids=["FAKE"]))
    assert "is not a request of ours" in error_of(conf)[1]
    br.refresh_from_db()
    assert br.status == BorrowingRequest.Status.SENT
    # The partner's real answer carries the id it was sent, and is routed by it.
    rid = br.rota.get(position=1).attempt_id
    assert rid.startswith(f"{br.number}-1-") and len(rid) > len(f"{br.number}-1-") + 10
    sent_id = iso.parse(wire.sent[0][1]).body.header.requesting_agency_request_id
    assert sent_id == rid
    _r, conf = post_in(sam(rid, iso.Status.LOANED, item_ids=["K-1"]))
    assert conf.is_ok, conf.error_data
    br.refresh_from_db()
    assert br.status == BorrowingRequest.Status.SHIPPED_PHYSICAL


def test_a_retry_is_sent_under_a_new_id_that_cannot_be_guessed_either(
        world, wire, sent_to_kaisa, django_capture_on_commit_callbacks):
    br = sent_to_kaisa
    first = br.rota.get(position=1).attempt_id
    _r, conf = post_in(sam(first, iso.Status.RETRY_POSSIBLE, iso.ReasonForMessage.REQUEST_RESPONSE))
    assert conf.is_ok
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_retry(request=BorrowingRequest.objects.get(pk=br.pk),
                                   user=world.ota_staff)
    retry = br.rota.get(position=1).attempt_id
    assert retry.startswith(f"{br.number}-1-R1-") and retry[-12:] != first[-12:]
    assert iso.parse(wire.sent[-1][1]).body.header.requesting_agency_request_id == retry
    _r, conf = post_in(sam(retry, iso.Status.WILL_SUPPLY, iso.ReasonForMessage.REQUEST_RESPONSE))
    assert conf.is_ok, conf.error_data


# --- 11. wrong credentials: cheap refusal, per-partner limit -----------------------------------


@pytest.fixture
def limit(settings):
    cache.clear()
    settings.ISO18626_AUTH_FAILURES = 3
    settings.ISO18626_AUTH_FAILURE_WINDOW_SECONDS = 60
    yield 3
    cache.clear()


def test_failed_authentications_are_limited_per_partner_without_locking_the_partner_out(
        world, guarded, limit):
    for n in range(limit):
        reply, conf = post_in(request_msg(f"W-{n}"), token=f"guess-{n}")
        assert reply.status == 200 and conf.message_status == "ERROR"
    stored = IsoMessage.objects.count()
    reply, _conf = post_in(request_msg("W-9"), token="guess-9")
    assert reply.status == 429
    assert IsoMessage.objects.count() == stored  # refused unstored
    # The partner itself, with its credentials, still gets through.
    _r, conf = post_in(request_msg("W-10"), token="tok-123")
    assert conf.is_ok
    # Another partner's failures are its own.
    kaisa_at_ota = world.kaisa_at_ota
    kaisa_at_ota.new_inbound_credentials()
    kaisa_at_ota.save()
    _r, conf = post_in(ram("X-1", iso.Action.NOTIFICATION, requester="FI-OTA"), token="nope")
    assert _r.status == 429  # OTA's limit (OTA sent it)
    _r, conf = post_in(sam("X-2", iso.Status.WILL_SUPPLY), token="nope")
    assert _r.status == 200 and conf.message_status == "ERROR"  # KAISA's own count


def test_an_old_password_hash_is_replaced_on_success_and_not_checked_under_attack(
        world, guarded, limit, monkeypatch):
    guarded.inbound_token_hash = make_password("tok-123")
    guarded.save()
    _r, conf = post_in(request_msg("O-1"), token="tok-123")
    assert conf.is_ok
    guarded.refresh_from_db()
    assert guarded.inbound_token_hash.startswith("hmac-sha256$")
    # Had it not been replaced, a flood of wrong tokens would cost a password hash each;
    # over the limit an old hash is not even checked.
    guarded.inbound_token_hash = make_password("tok-123")
    guarded.save()
    for n in range(limit):
        post_in(request_msg(f"O-{n + 2}"), token=f"guess-{n}")
    monkeypatch.setattr("partners.models.check_password",
                        lambda *a, **k: pytest.fail("checked an old hash under attack"))
    reply, _conf = post_in(request_msg("O-9"), token="guess-9")
    assert reply.status == 429


# --- 10. the element count is bounded, and an oversized message answered fast ------------------


def test_a_message_of_250000_unknown_elements_is_refused_fast(client, world):
    data = request_msg("BIG-1").replace(b"</ill:serviceInfo>",
                                        b"</ill:serviceInfo>" + b"<x/>" * 250_000)
    assert len(data) <= 1024 * 1024
    started = time.process_time()
    response = post(client, data)
    spent = time.process_time() - started
    assert response.status_code == 413 and b"elements" in response.content
    # Reading it took 1.3-2.4 s of server time; the refusal is a count of "<" bytes.
    assert spent < 0.3, spent
    assert not LendingRequest.objects.exists() and not IsoMessage.objects.exists()


def test_the_element_limit_is_a_setting_and_the_codec_keeps_it_too(client, world, settings):
    data = request_msg("EL-1")
    count = sum(1 for _ in etree.fromstring(data).iter())
    settings.ISO18626_MAX_ELEMENTS = count
    assert answer_of(post(client, data)).is_ok
    settings.ISO18626_MAX_ELEMENTS = count - 1
    assert post(client, request_msg("EL-2")).status_code == 413
    with pytest.raises(iso.Iso18626Error, match="more than the 10 elements"):
        iso.parse(data, max_elements=10)
    # Only "<" bytes that are not elements (in a UTF-16 text, say) are read to be sure.
    assert not iso.exceeds_element_limit(("<a>" + "\u013c" * 50 + "</a>").encode("utf-16"), 5)
    assert iso.exceeds_element_limit(b"<a>" + b"<b/>" * 6 + b"</a>", 5)


# --- 9. what strangers post is kept short and bounded; old traffic is pruned -------------------


def _padded(rid, *, requester="FI-OTA", size=900_000):
    # Nearly 1 MiB, of a note: what anyone could make us store for ever.
    return request_msg(rid, requester=requester).replace(
        b"<ill:serviceType>", b"<ill:note>" + b"n" * size + b"</ill:note><ill:serviceType>")


def test_a_strangers_messages_are_stored_cut_short_and_only_so_many(world, settings, guarded):
    settings.ISO18626_UNATTRIBUTED_PER_HOUR = 3
    cache.clear()
    answers = [post_in(_padded(f"S-{n}", requester="FI-STRANGER"))[1] for n in range(2)]
    answers.append(post_in(_padded("S-2"), token="wrong")[1])  # a known sender, unproven
    answers.append(post_in(_padded("S-3", requester="FI-STRANGER"))[1])  # over the bound
    assert all(a.message_status == "ERROR" for a in answers)
    stored = list(IsoMessage.objects.filter(direction="in"))
    assert len(stored) == 3
    for message in stored:
        assert len(message.raw) < 2100 and len(message.note) < 2100
        assert message.idempotency_key is None
    # The partner's own messages are kept whole.
    _r, conf = post_in(_padded("S-4"), token="tok-123")
    assert conf.is_ok
    assert len(IsoMessage.objects.get(requesting_agency_request_id="S-4").raw) > 900_000


def test_an_unreadable_message_is_stored_cut_short(world):
    data = _padded("U-1").replace(b"<ill:timestamp>", b"<ill:x>").replace(
        b"</ill:timestamp>", b"</ill:x>")
    _r, conf = post_in(data)
    assert error_of(conf)[0] == ET.BADLY_FORMED_MESSAGE
    assert len(IsoMessage.objects.get().raw) < 2100


def test_old_traffic_is_pruned_by_its_retention(world, lent, settings):
    settings.ISO18626_RETENTION_DAYS = 365
    settings.ISO18626_UNATTRIBUTED_RETENTION_DAYS = 30
    now = timezone.now()
    post_in(request_msg("P-1", requester="FI-STRANGER"))  # unattributed
    stranger = IsoMessage.objects.get(requesting_agency_request_id="P-1")
    partner_message = IsoMessage.objects.filter(direction="in", lending_request=lent).first()
    waiting = IsoMessage.objects.create(direction="out", institution=world.kaisa)
    OutboxMessage.objects.create(message=waiting, institution=world.kaisa,
                                 partner=world.ota_at_kaisa, chain="l:999", sequence=1,
                                 url="http://ota.test/iso18626", xml="<x/>", state="failed")
    IsoMessage.objects.filter(pk=stranger.pk).update(created_at=now - timedelta(days=31))
    result = iso_traffic_prune(now=now)
    assert result == {"unattributed": 1, "old": 0}
    assert not IsoMessage.objects.filter(pk=stranger.pk).exists()
    assert IsoMessage.objects.filter(pk=partner_message.pk).exists()
    IsoMessage.objects.update(created_at=now - timedelta(days=366))
    before = IsoMessage.objects.count()
    assert before >= 2
    assert iso_traffic_prune(now=now) == {"unattributed": 0, "old": before - 1}
    assert list(IsoMessage.objects.all()) == [waiting]  # still to be sent: kept
    settings.ISO18626_RETENTION_DAYS = 0  # for ever
    OutboxMessage.objects.all().delete()
    assert iso_traffic_prune(now=now) == {"unattributed": 0, "old": 0}


def test_the_pruning_job_is_scheduled_and_runs_as_a_task(world, settings):
    schedule = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert PRUNE_TASK in schedule
    post_in(request_msg("P-2", requester="FI-STRANGER"))
    IsoMessage.objects.update(created_at=timezone.now() - timedelta(days=400))
    assert current_app.tasks[PRUNE_TASK].delay().get() == {"unattributed": 1, "old": 0}
    assert not IsoMessage.objects.exists()

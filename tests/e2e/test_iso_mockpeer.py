"""Kauko against the mock peer (CrossLink illmock's scenario language), over real HTTP."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.lending import services as ls
from ill.models import BorrowingRequest, LendingRequest, OutboxMessage
from tests import factories as f
from tests.e2e.conftest import act, wait_until
from tests.ill.iso_world import make_world
from workbench.mockpeer import MockPeer

pytestmark = pytest.mark.django_db(transaction=True)
BS, LS = BorrowingRequest.Status, LendingRequest.Status
OB = OutboxMessage.State


def fresh(r):
    return act(lambda: type(r).objects.get(pk=r.pk))


@pytest.fixture
def m(iso_live, take_turns):
    world = make_world()
    peer = MockPeer(peer_url=f"{iso_live.url}/iso18626", delay=0.05).start()
    world.peer = peer
    world.mock_at_ota = f.partner(
        world.ota,
        code="MOCK",
        profile_type="iso18626",
        agency_id_value="MOCK",
        iso_endpoint_url=peer.url,
    )
    world.mock_at_kaisa = f.partner(
        world.kaisa,
        code="MOCK",
        profile_type="iso18626",
        agency_id_value="MOCK",
        iso_endpoint_url=peer.url,
    )
    yield world
    peer.stop()


def ask(m, scenario, **kw):
    @transaction.atomic  # one clean unit for act() to retry
    def create_and_send():
        br = f.borrowing_request(
            m.ota,
            setup=m.ota_setup,
            patron_=m.patron,
            partners=[m.mock_at_ota],
            note_to_partner=f"Please. MOCK:MOCK:{scenario}",
            **kw,
        )
        return bs.borrowing_request_send(request=br, user=m.ota_staff)

    return act(create_and_send)


def status_is(r, status):
    return lambda: fresh(r).status == status


def test_loaned_received_returned_completed(m):
    br = ask(m, "LOANED")
    wait_until(status_is(br, BS.SHIPPED_PHYSICAL))
    assert fresh(br).partner_item_barcode == "123456789"
    act(
        lambda: bs.borrowing_request_receive(
            request=fresh(br), barcode="123456789", user=m.ota_staff
        )
    )
    act(lambda: bs.borrowing_request_return_to_partner(request=fresh(br), user=m.ota_staff))
    wait_until(status_is(br, BS.COMPLETED), what="LoanCompleted after ShippedReturn")


def test_willsupply_loaned_unfilled_and_copy(m):
    br = ask(m, "WILLSUPPLY_LOANED")
    unfilled = ask(m, "UNFILLED")
    copy = ask(
        m, "COMPLETED", request_type="article", citation={"title": "J", "article_title": "A"}
    )
    wait_until(status_is(br, BS.SHIPPED_PHYSICAL))
    assert fresh(br).history.filter(to_status=BS.WILL_SUPPLY).exists()
    wait_until(status_is(unfilled, BS.REJECTED))
    wait_until(status_is(copy, BS.SHIPPED_DIGITAL))
    assert fresh(copy).needs_attention and not fresh(copy).digital_url


def test_overdue_and_recalled_after_received(m):
    overdue, recalled = ask(m, "LOANED_OVERDUE"), ask(m, "LOANED_RECALLED")
    for br in (overdue, recalled):
        wait_until(status_is(br, BS.SHIPPED_PHYSICAL))
    act(
        lambda: bs.borrowing_request_receive(
            request=fresh(overdue), barcode="123456789", user=m.ota_staff
        )
    )
    wait_until(lambda: fresh(overdue).needs_attention, what="overdue parked for staff")
    act(
        lambda: bs.borrowing_request_receive(
            request=fresh(recalled), barcode="M-2", user=m.ota_staff
        )
    )
    wait_until(status_is(recalled, BS.RECALLED))


def test_error_and_http_errors(m, settings):
    settings.ISO18626_MAX_ATTEMPTS = 2
    refused, bad, broken = ask(m, "ERROR"), ask(m, "HTTP-ERROR-400"), ask(m, "HTTP-ERROR-500")

    def state(br):
        return OutboxMessage.objects.get(borrowing_request=br).state

    wait_until(lambda: state(refused) == OB.ERROR and state(bad) == OB.ERROR)
    assert (
        "MOCK ERROR" in act(lambda: OutboxMessage.objects.get(borrowing_request=refused)).last_error
    )
    assert fresh(refused).needs_attention and fresh(bad).needs_attention

    def failed():
        from ill.outbox import services as iso_outbound

        iso_outbound.sweep()
        return state(broken) == OB.FAILED

    wait_until(failed, timeout=20, what="HTTP 500 retried, then failed")
    assert act(lambda: OutboxMessage.objects.get(borrowing_request=broken)).attempts == 2
    assert "2 attempts" in fresh(broken).attention_reason


def test_retry_after_a_condition(m):
    br = ask(m, "RETRY:COND_LOANED")
    wait_until(lambda: fresh(br).needs_attention, what="retry possible")
    assert "LoanCondition" in fresh(br).attention_reason
    act(lambda: bs.borrowing_request_retry(request=fresh(br), user=m.ota_staff))
    wait_until(status_is(br, BS.SHIPPED_PHYSICAL), what="loaned after the retry")


def test_cancel_and_renew(m):
    cancelled = ask(m, "WILLSUPPLY")
    renewed = ask(m, "LOANED")
    wait_until(status_is(cancelled, BS.WILL_SUPPLY))
    act(
        lambda: bs.borrowing_request_cancel(
            request=fresh(cancelled), reason="Not needed", user=m.ota_staff
        )
    )
    wait_until(status_is(cancelled, BS.CANCELLED_STAFF))

    wait_until(status_is(renewed, BS.SHIPPED_PHYSICAL))
    from circulation import services as desk
    from fulfillment.models import Item

    act(
        lambda: bs.borrowing_request_receive(
            request=fresh(renewed), barcode="123456789", user=m.ota_staff
        )
    )
    item = act(lambda: Item.objects.get(pk=fresh(renewed).temporary_item_id))
    act(lambda: desk.desk_scan_in(desk=m.ota_setup.desk, barcode="123456789", user=m.ota_desk))
    act(lambda: desk.loan_item(desk=m.ota_setup.desk, patron=m.patron, item=item, user=m.ota_desk))
    act(lambda: bs.borrowing_request_request_renewal(request=fresh(renewed), user=m.ota_staff))
    wait_until(status_is(renewed, BS.RENEWED))


def test_the_mock_as_requester(m, iso_live):
    rid = m.peer.send_request(supplier=iso.AgencyId("ISIL", "FI-KAISA"), title="Borrowed book")
    lr = act(lambda: LendingRequest.objects.get(partner_request_id=rid))
    assert lr.partner == m.mock_at_kaisa and lr.status == LS.PROCESSING
    act(
        lambda: ls.lending_request_ship(
            request=lr,
            barcode="KAISA-0001",
            due_date=timezone.localdate() + datetime.timedelta(days=20),
            user=m.kaisa_staff,
        )
    )
    wait_until(status_is(lr, LS.RETURNED), what="received and shipped back by the mock")
    act(
        lambda: ls.lending_request_check_in(
            request=fresh(lr), barcode="KAISA-0001", user=m.kaisa_staff
        )
    )
    wait_until(lambda: m.peer.requester_state(rid).done, what="the mock saw LoanCompleted")

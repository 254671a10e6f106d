"""The two demo-style institutions exchange real ISO 18626 messages over HTTP."""

from __future__ import annotations

import datetime
import urllib.request

import pytest
from django.utils import timezone

from circulation import services as desk
from fulfillment.models import Item
from ill.borrowing import services as bs
from ill.lending import services as ls
from ill.models import BorrowingRequest, IsoMessage, LendingRequest, OutboxMessage
from ill.outbox import services as iso_outbound
from partners.models import Partner
from tests import factories as f
from tests.e2e.conftest import wait_until
from tests.ill.iso_world import make_world

pytestmark = pytest.mark.django_db(transaction=True)
BS, LS = BorrowingRequest.Status, LendingRequest.Status


def fresh(r):
    return type(r).objects.get(pk=r.pk)


@pytest.fixture
def w(iso_live):
    world = make_world()
    url = f"{iso_live.url}/iso18626"
    Partner.objects.filter(profile_type=Partner.ProfileType.ISO18626).update(iso_endpoint_url=url)
    world.kaisa_at_ota.refresh_from_db()
    world.ota_at_kaisa.refresh_from_db()
    world.url = url
    return world


def status_is(r, status):
    return lambda: fresh(r).status == status


def send(w, **kw):
    br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                             partners=kw.pop("partners", [w.kaisa_at_ota]), **kw)
    br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    rid = br.rota.get(position=1).attempt_id
    wait_until(lambda: LendingRequest.objects.filter(partner_request_id=rid).exists(),
               what="the lending request")
    return br, LendingRequest.objects.get(partner_request_id=rid)


def ship(w, br, lr, days=28):
    due = timezone.localdate() + datetime.timedelta(days=days)
    ls.lending_request_ship(request=fresh(lr), barcode="KAISA-0001", due_date=due,
                            user=w.kaisa_staff)
    wait_until(status_is(br, BS.SHIPPED_PHYSICAL), what="shipped")
    bs.borrowing_request_receive(request=fresh(br), barcode="KAISA-0001", user=w.ota_staff)
    wait_until(status_is(lr, LS.RECEIVED), what="received at the lender")
    return due


def desk_loan(w, br):
    item = Item.objects.get(pk=fresh(br).temporary_item_id)
    desk.desk_scan_in(desk=w.ota_setup.desk, barcode="KAISA-0001", user=w.ota_desk)
    desk.loan_item(desk=w.ota_setup.desk, patron=w.patron, item=item, user=w.ota_desk)
    assert fresh(br).status == BS.LOANED
    return item


def no_errors():
    # The answer may be applied a moment before the sender records the confirmation.
    wait_until(lambda: not OutboxMessage.objects.filter(
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING]).exists(),
        what="every message confirmed")
    errors = list(IsoMessage.objects.filter(confirmation_status="ERROR")
                  .values_list("summary", "error_value"))
    assert not errors, errors
    assert not OutboxMessage.objects.exclude(state=OutboxMessage.State.SENT).exists()


def test_a_loan_from_request_to_loan_completed(w):
    br, lr = send(w)
    assert lr.status == LS.PROCESSING and lr.item == w.book
    ls.lending_request_will_supply(request=lr, user=w.kaisa_staff)
    wait_until(status_is(br, BS.WILL_SUPPLY))
    due = ship(w, br, lr)
    assert fresh(br).partner_due_date == due
    item = desk_loan(w, br)
    desk.return_item(desk=w.ota_setup.desk, item=item, user=w.ota_desk)
    desk.desk_scan_in(desk=w.ota_setup.rs_desk, barcode="KAISA-0001", user=w.ota_staff)
    assert fresh(br).status == BS.RETURNED_TO_PARTNER
    wait_until(status_is(lr, LS.RETURNED), what="returned at the lender")
    ls.lending_request_check_in(request=fresh(lr), barcode="KAISA-0001", user=w.kaisa_staff)
    wait_until(status_is(br, BS.COMPLETED), what="loan completed")
    no_errors()
    kinds = list(IsoMessage.objects.filter(borrowing_request=br).values_list(
        "direction", "summary"))
    # request, will supply, loaned, received, shipped return, loan completed
    assert [d for d, _s in kinds] == ["out", "in", "in", "out", "out", "in"]


def test_an_article_copy(w):
    br, lr = send(w, request_type="article",
                  citation={"title": "Borrowed book", "article_title": "Chapter 1"})
    ls.lending_request_ship_digitally(request=lr, url="https://kaisa.example/c/1.pdf",
                                      user=w.kaisa_staff)
    wait_until(status_is(br, BS.COMPLETED))
    assert fresh(br).digital_url == "https://kaisa.example/c/1.pdf"
    no_errors()


def test_unfilled_then_the_next_partner_loans(w, iso_live):
    tre = f.institution("TRE")
    tre_setup = f.rs_setup(tre)
    f.item(tre_setup.stacks, title="Borrowed book", barcodes=("TRE-1",))
    f.partner(tre, code="OTA", profile_type="iso18626", agency_id_value="FI-OTA",
              iso_endpoint_url=w.url)
    tre_at_ota = f.partner(w.ota, code="TRE", profile_type="iso18626",
                           agency_id_value="FI-TRE", iso_endpoint_url=w.url)
    br, lr = send(w, partners=[w.kaisa_at_ota, tre_at_ota])
    ls.lending_request_reject(request=lr, reason_code="NotOnShelf", user=w.kaisa_staff)
    wait_until(lambda: LendingRequest.objects.filter(institution=tre).exists(),
               what="asked the next partner")
    br = fresh(br)
    assert br.status == BS.SENT and br.partner == tre_at_ota
    tre_lr = LendingRequest.objects.get(institution=tre)
    ls.lending_request_ship(request=tre_lr, barcode="TRE-1",
                            due_date=timezone.localdate() + datetime.timedelta(days=20))
    wait_until(status_is(br, BS.SHIPPED_PHYSICAL))
    no_errors()


def test_conditions_accepted_and_rejected(w):
    br, lr = send(w)
    ls.lending_request_conditional(request=lr, condition="Library use only",
                                   user=w.kaisa_staff)
    wait_until(status_is(br, BS.CONDITIONAL))
    bs.borrowing_request_accept_conditions(request=fresh(br), user=w.ota_staff)
    wait_until(status_is(lr, LS.WILL_SUPPLY))
    assert fresh(br).status == BS.WILL_SUPPLY

    w.book.refresh_from_db()
    f.item(w.kaisa_setup.stacks, title="Another book", barcodes=("KAISA-0002",))
    br2, lr2 = send(w, citation={"title": "Another book"})
    ls.lending_request_conditional(request=lr2, condition="Costs 10 EUR", user=w.kaisa_staff)
    wait_until(status_is(br2, BS.CONDITIONAL))
    bs.borrowing_request_reject_conditions(request=fresh(br2), user=w.ota_staff)
    wait_until(status_is(lr2, LS.CANCELLED))
    wait_until(lambda: IsoMessage.objects.filter(borrowing_request=br2, direction="in",
                                                 reason_for_message="CancelResponse").exists())
    assert fresh(br2).status == BS.REJECTED
    no_errors()


def test_renew_yes_and_no_then_overdue_and_recall(w):
    br, lr = send(w)
    due = ship(w, br, lr, days=10)
    desk_loan(w, br)
    bs.borrowing_request_request_renewal(request=fresh(br), user=w.ota_staff)
    wait_until(status_is(lr, LS.RENEW_REQUESTED))
    new_due = due + datetime.timedelta(days=14)
    ls.lending_request_renewal_answer(request=fresh(lr), granted=True, new_due_date=new_due,
                                      user=w.kaisa_staff)
    wait_until(status_is(br, BS.RENEWED))
    assert fresh(br).partner_due_date == new_due
    bs.borrowing_request_request_renewal(request=fresh(br), user=w.ota_staff)
    wait_until(status_is(lr, LS.RENEW_REQUESTED))
    ls.lending_request_renewal_answer(request=fresh(lr), granted=False, user=w.kaisa_staff)
    wait_until(status_is(br, BS.RENEWAL_REFUSED))

    LendingRequest.objects.filter(pk=lr.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1))
    ls.lending_request_overdue_notice(request=fresh(lr), user=w.kaisa_staff)
    wait_until(status_is(br, BS.OVERDUE))
    ls.lending_request_recall(request=fresh(lr), user=w.kaisa_staff,
                              new_due_date=timezone.localdate() + datetime.timedelta(days=3))
    wait_until(status_is(br, BS.RECALLED))
    no_errors()


def test_cancel_yes_and_no_and_notifications(w):
    br, lr = send(w)
    bs.borrowing_request_partner_note(request=br, note="Is it on the shelf?", user=w.ota_staff)
    wait_until(lambda: fresh(lr).history.filter(action="partner_message",
                                                note="Is it on the shelf?").exists())
    ls.lending_request_partner_note(request=fresh(lr), note="Yes it is.", user=w.kaisa_staff)
    wait_until(lambda: fresh(br).history.filter(action="partner_message",
                                                note="Yes it is.").exists())

    bs.borrowing_request_cancel(request=fresh(br), reason="Not needed", user=w.ota_staff)
    wait_until(lambda: fresh(lr).needs_attention)
    ls.lending_request_cancel_answer(request=fresh(lr), cancelled=False, user=w.kaisa_staff)
    wait_until(status_is(br, BS.SENT))
    bs.borrowing_request_cancel(request=fresh(br), reason="Really", user=w.ota_staff)
    # The notes and the first cancel request are on it already: wait for the second.
    wait_until(lambda: fresh(lr).history.filter(action="partner_message").count() >= 3)
    ls.lending_request_cancel_answer(request=fresh(lr), cancelled=True, user=w.kaisa_staff)
    wait_until(status_is(br, BS.CANCELLED_STAFF))
    no_errors()


def test_a_partner_that_is_down_for_a_while(w):
    br, lr = send(w)
    # KAISA's view of OTA's endpoint goes dark: a closed port refuses connections.
    Partner.objects.filter(pk=w.ota_at_kaisa.pk).update(
        iso_endpoint_url="http://127.0.0.1:9/iso18626")
    ls.lending_request_will_supply(request=lr, user=w.kaisa_staff)
    ls.lending_request_partner_note(request=fresh(lr), note="first", user=w.kaisa_staff)
    ls.lending_request_partner_note(request=fresh(lr), note="second", user=w.kaisa_staff)
    wait_until(lambda: OutboxMessage.objects.filter(lending_request=lr, attempts__gte=1)
               .exists(), what="a failed attempt")
    assert fresh(br).status == BS.SENT
    Partner.objects.filter(pk=w.ota_at_kaisa.pk).update(iso_endpoint_url=w.url)

    def delivered():
        iso_outbound.sweep()  # what beat does every minute
        return not OutboxMessage.objects.filter(lending_request=lr).exclude(
            state=OutboxMessage.State.SENT).exists()

    wait_until(delivered, timeout=20, what="delivery after the partner came back")
    assert fresh(br).status == BS.WILL_SUPPLY
    notes = list(fresh(br).history.filter(action="partner_message").values_list("note",
                                                                                flat=True))
    assert notes == ["first", "second"]  # in order, once each
    assert IsoMessage.objects.filter(borrowing_request=br, direction="in").count() == 3


def test_a_message_replayed_twice(w):
    br, lr = send(w)
    ls.lending_request_will_supply(request=lr, user=w.kaisa_staff)
    wait_until(status_is(br, BS.WILL_SUPPLY))
    version = fresh(br).version
    raw = IsoMessage.objects.get(lending_request=lr, direction="out").raw.encode()
    answers = []
    for _ in range(2):
        req = urllib.request.Request(w.url, data=raw, method="POST",
                                     headers={"Content-Type": "application/xml"})
        with urllib.request.urlopen(req, timeout=5) as response:
            answers.append(response.read())
    assert answers[0] == answers[1] and b"<ill:messageStatus>OK<" in answers[0]
    assert fresh(br).version == version

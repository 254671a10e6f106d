"""Two institutions talk ISO 18626 in-process: each step on one side moves the other."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.lending import services as ls
from ill.models import BorrowingRequest, IsoMessage, LendingRequest, OutboxMessage
from kauko.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db
BS, LS = BorrowingRequest.Status, LendingRequest.Status


def fresh(r):
    return type(r).objects.get(pk=r.pk)


def test_a_loan_from_request_to_loan_completed(world, wire, django_capture_on_commit_callbacks):
    w = world
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    lr = LendingRequest.objects.get(institution=w.kaisa)
    assert lr.partner == w.ota_at_kaisa
    assert lr.partner_request_id == br.rota.get(position=1).attempt_id
    assert lr.status == LS.PROCESSING and lr.item == w.book

    with django_capture_on_commit_callbacks(execute=True):
        ls.lending_request_will_supply(request=lr, user=w.kaisa_staff)
    assert fresh(br).status == BS.WILL_SUPPLY

    due = timezone.localdate() + datetime.timedelta(days=28)
    with django_capture_on_commit_callbacks(execute=True):
        ls.lending_request_ship(request=fresh(lr), barcode="KAISA-0001", due_date=due,
                                user=w.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.SHIPPED_PHYSICAL
    assert br.partner_due_date == due
    assert br.partner_item_barcode == "KAISA-0001"

    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_receive(request=br, barcode="KAISA-0001", user=w.ota_staff)
    assert fresh(lr).status == LS.RECEIVED

    # Straight back to the partner (the desk steps are covered end to end).
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_return_to_partner(request=fresh(br), user=w.ota_staff)
    assert fresh(lr).status == LS.RETURNED

    with django_capture_on_commit_callbacks(execute=True):
        ls.lending_request_check_in(request=fresh(lr), barcode="KAISA-0001",
                                    user=w.kaisa_staff)
    assert fresh(lr).status == LS.COMPLETED
    assert fresh(br).status == BS.COMPLETED

    kinds = [type(m).__name__ for m in wire.messages()]
    assert kinds[0] == "Request"
    assert OutboxMessage.objects.exclude(state=OutboxMessage.State.SENT).count() == 0
    conversation = IsoMessage.objects.filter(borrowing_request=br)
    assert {m.direction for m in conversation} == {"in", "out"}
    assert all(m.confirmation_status == "OK" for m in IsoMessage.objects.all())


@pytest.fixture
def loan(world, wire, django_capture_on_commit_callbacks):
    """A request OTA sent to KAISA, located there; returns (borrowing, lending)."""
    w = world
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    return br, LendingRequest.objects.get(institution=w.kaisa)


def run(callbacks, fn, **kw):
    with callbacks(execute=True):
        return fn(**kw)


def test_conditions_accepted(world, loan, django_capture_on_commit_callbacks):
    br, lr = loan
    cb = django_capture_on_commit_callbacks
    run(cb, ls.lending_request_conditional, request=lr, condition="Library use only",
        user=world.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.CONDITIONAL and "Library use only" in br.condition_text
    run(cb, bs.borrowing_request_accept_conditions, request=br, user=world.ota_staff)
    lr = fresh(lr)
    assert lr.status == LS.WILL_SUPPLY and lr.condition_answer == "accepted"
    assert fresh(br).status == BS.WILL_SUPPLY


def test_conditions_rejected(world, loan, django_capture_on_commit_callbacks):
    br, lr = loan
    cb = django_capture_on_commit_callbacks
    run(cb, ls.lending_request_conditional, request=lr, condition="Costs 10 EUR",
        user=world.kaisa_staff)
    run(cb, bs.borrowing_request_reject_conditions, request=fresh(br), user=world.ota_staff)
    assert fresh(lr).status == LS.CANCELLED
    br = fresh(br)
    # End of the rota; KAISA's CancelResponse to the earlier attempt is taken calmly.
    assert br.status == BS.REJECTED
    errors = list(IsoMessage.objects.filter(confirmation_status="ERROR").values_list("summary", "error_value"))
    assert not errors, errors


def test_renew_yes_and_no(world, loan, django_capture_on_commit_callbacks):
    from tests.ill.inbound.test_iso_endpoint import loan_to_patron

    br, lr = loan
    cb = django_capture_on_commit_callbacks
    w = world
    due = timezone.localdate() + datetime.timedelta(days=20)
    run(cb, ls.lending_request_ship, request=lr, barcode="KAISA-0001", due_date=due,
        user=w.kaisa_staff)
    run(cb, bs.borrowing_request_receive, request=fresh(br), barcode="KAISA-0001",
        user=w.ota_staff)
    br = loan_to_patron(fresh(br), w)
    run(cb, bs.borrowing_request_request_renewal, request=br, user=w.ota_staff)
    assert fresh(lr).status == LS.RENEW_REQUESTED
    new_due = due + datetime.timedelta(days=14)
    run(cb, ls.lending_request_renewal_answer, request=fresh(lr), granted=True,
        new_due_date=new_due, user=w.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.RENEWED and br.partner_due_date == new_due
    run(cb, bs.borrowing_request_request_renewal, request=br, user=w.ota_staff)
    run(cb, ls.lending_request_renewal_answer, request=fresh(lr), granted=False,
        user=w.kaisa_staff)
    assert fresh(br).status == BS.RENEWAL_REFUSED and fresh(br).partner_due_date == new_due


def test_cancel_yes_and_no(world, loan, wire, django_capture_on_commit_callbacks):
    br, lr = loan
    cb = django_capture_on_commit_callbacks
    w = world
    run(cb, bs.borrowing_request_cancel, request=br, reason="Patron left", user=w.ota_staff)
    assert fresh(br).status == BS.WAITING_CANCEL
    lr = fresh(lr)
    assert lr.needs_attention  # staff at KAISA say yes or no
    run(cb, ls.lending_request_cancel_answer, request=lr, cancelled=False, user=w.kaisa_staff)
    assert fresh(br).status == BS.SENT
    run(cb, bs.borrowing_request_cancel, request=fresh(br), reason="Really", user=w.ota_staff)
    run(cb, ls.lending_request_cancel_answer, request=fresh(lr), cancelled=True,
        user=w.kaisa_staff)
    assert fresh(lr).status == LS.CANCELLED
    assert fresh(br).status == BS.CANCELLED_STAFF


def test_overdue_recall_notifications_and_status(world, loan, wire,
                                                  django_capture_on_commit_callbacks):
    from tests.ill.inbound.test_iso_endpoint import loan_to_patron

    br, lr = loan
    cb = django_capture_on_commit_callbacks
    w = world
    due = timezone.localdate() + datetime.timedelta(days=3)
    run(cb, ls.lending_request_ship, request=lr, barcode="KAISA-0001", due_date=due,
        user=w.kaisa_staff)
    run(cb, bs.borrowing_request_receive, request=fresh(br), barcode="KAISA-0001",
        user=w.ota_staff)
    loan_to_patron(fresh(br), w)
    LendingRequest.objects.filter(pk=lr.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1))
    run(cb, ls.lending_request_overdue_notice, request=fresh(lr), user=w.kaisa_staff)
    assert fresh(br).status == BS.OVERDUE
    recall_due = timezone.localdate() + datetime.timedelta(days=5)
    run(cb, ls.lending_request_recall, request=fresh(lr), new_due_date=recall_due,
        user=w.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.RECALLED and br.partner_due_date == recall_due

    run(cb, bs.borrowing_request_partner_note, request=br, note="We will hurry.",
        user=w.ota_staff)
    assert fresh(lr).history.filter(action="partner_message", note="We will hurry.").exists()
    run(cb, ls.lending_request_partner_note, request=fresh(lr), note="Thanks!",
        user=w.kaisa_staff)
    assert fresh(br).history.filter(action="partner_message", note="Thanks!").exists()
    run(cb, iso_outbound_event, request=fresh(br), event="status_request")
    last = wire.messages()[-1]
    assert last.message_info.reason_for_message == "StatusRequestResponse"
    assert last.status_info.status == "Recalled"


def iso_outbound_event(**kw):
    from django.db import transaction

    from ill.borrowing.messages import borrowing_event

    with transaction.atomic():
        return borrowing_event(**kw)


def test_unfilled_goes_on_to_the_next_partner(world, wire, django_capture_on_commit_callbacks):
    w = world
    cb = django_capture_on_commit_callbacks
    third = f.institution("TRE")
    third_setup = f.rs_setup(third)
    f.item(third_setup.stacks, title="Borrowed book", barcodes=("TRE-1",))
    f.partner(third, code="OTA", profile_type="iso18626", agency_id_value="FI-OTA",
              iso_endpoint_url="http://ota.test/iso18626")
    tre_at_ota = f.partner(w.ota, code="TRE", profile_type="iso18626",
                           agency_id_value="FI-TRE", iso_endpoint_url="http://tre.test/iso")
    with cb(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota, tre_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    lr = LendingRequest.objects.get(institution=w.kaisa)
    run(cb, ls.lending_request_reject, request=lr, reason_code="NotOnShelf",
        user=w.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.SENT and br.partner == tre_at_ota
    tre_lr = LendingRequest.objects.get(institution=third)
    assert tre_lr.partner_request_id == br.rota.get(position=2).attempt_id
    run(cb, ls.lending_request_ship, request=tre_lr, barcode="TRE-1",
        due_date=timezone.localdate() + datetime.timedelta(days=20), user=None)
    assert fresh(br).status == BS.SHIPPED_PHYSICAL


def test_an_article_copy(world, wire, django_capture_on_commit_callbacks):
    w = world
    cb = django_capture_on_commit_callbacks
    with cb(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 request_type="article", partners=[w.kaisa_at_ota],
                                 citation={"title": "Borrowed book", "article_title": "Ch. 1"})
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    lr = LendingRequest.objects.get(institution=w.kaisa)
    assert lr.service_type == LendingRequest.ServiceType.COPY
    run(cb, ls.lending_request_ship_digitally, request=lr, url="https://kaisa.example/c/1.pdf",
        user=w.kaisa_staff)
    br = fresh(br)
    assert br.status == BS.COMPLETED and br.digital_url == "https://kaisa.example/c/1.pdf"


@pytest.mark.parametrize("version", ["2021"])
def test_the_2021_schema_both_ways(version, wire, django_capture_on_commit_callbacks, db):
    from tests.ill.iso_world import make_world

    w = make_world(version=version)
    cb = django_capture_on_commit_callbacks
    with cb(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    lr = LendingRequest.objects.get(institution=w.kaisa)
    run(cb, ls.lending_request_conditional, request=lr, condition="LibraryUseOnly",
        user=w.kaisa_staff)
    run(cb, bs.borrowing_request_accept_conditions, request=fresh(br), user=w.ota_staff)
    run(cb, ls.lending_request_ship, request=fresh(lr), barcode="KAISA-0001",
        due_date=timezone.localdate() + datetime.timedelta(days=20), user=w.kaisa_staff)
    assert fresh(br).status == BS.SHIPPED_PHYSICAL
    assert all(b'ill:version="2021-2"' in d for _u, d, _h in wire.sent)
    assert iso.parse(wire.sent[0][1]).version == "2021"


def test_while_a_partner_asks_to_cancel_our_item_is_marked_and_not_shipped(
        world, loan, wire, client, django_capture_on_commit_callbacks):
    br, lr = loan
    cb = django_capture_on_commit_callbacks
    w = world
    run(cb, bs.borrowing_request_cancel, request=br, reason="Patron left", user=w.ota_staff)
    lr = fresh(lr)
    assert lr.cancel_requested_at and lr.needs_attention
    client.force_login(w.kaisa_staff)
    pick = client.get(reverse("ill:lending_pick_list"))
    assert lr.number in pick.text and "partner asks to cancel" in pick.text
    with pytest.raises(DomainError, match="asked to cancel"):
        ls.lending_request_ship(request=lr, barcode="KAISA-0001", user=w.kaisa_staff)

    run(cb, ls.lending_request_cancel_answer, request=fresh(lr), cancelled=False,
        user=w.kaisa_staff)
    lr = fresh(lr)
    assert not lr.cancel_requested_at and not lr.needs_attention
    run(cb, ls.lending_request_ship, request=lr, barcode="KAISA-0001", user=w.kaisa_staff)
    assert fresh(lr).status == LS.SHIPPED_PHYSICAL

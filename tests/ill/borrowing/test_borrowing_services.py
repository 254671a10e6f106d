import datetime
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from circulation.models import Hold
from fulfillment.models import BibRecord, Item
from ill.borrowing.services import (
    borrowing_request_cancel,
    borrowing_request_cancel_answer,
    borrowing_request_conditional,
    borrowing_request_create,
    borrowing_request_edit,
    borrowing_request_fill_from_collection,
    borrowing_request_reject_conditions,
    borrowing_request_rejected,
    borrowing_request_renewal_answer,
    borrowing_request_send,
    borrowing_request_set_rota,
    borrowing_request_shipped,
    borrowing_request_to_purchase,
    borrowing_request_will_supply,
    renewal_refusal,
)
from ill.models import BorrowingRequest, HistoryEntry, PurchaseRequest, RotaEntry
from ill.workflow import WorkflowError
from kauko import roles
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db






@pytest.fixture
def staff(inst):
    return f.staff(inst, roles.RESOURCE_SHARING)


@pytest.fixture
def partners(inst):
    return [f.partner(inst, code="NRL", mail_delay_days=3), f.partner(inst, code="RDL")]


def _fresh(request):
    return BorrowingRequest.objects.get(pk=request.pk)


def test_a_physical_request_gets_a_hidden_temporary_item_in_the_incoming_location_and_a_hold(
    inst, setup
):
    request = f.borrowing_request(inst, setup=setup)
    item = request.temporary_item
    assert item.is_temporary and item.bib.hidden
    assert item.location == setup.incoming and item.permanent_location == setup.incoming
    assert item.status == Item.Status.ILL_AWAITING
    assert request.hold.patron == request.patron and request.hold.item == item
    assert request.hold.state == Hold.State.WAITING and request.hold.is_ill
    assert request.number.startswith("OTA-B-")


def test_a_copy_request_creates_no_temporary_records(inst, setup):
    before = BibRecord.objects.count()
    request = f.borrowing_request(inst, setup=setup, request_type="article",
                                  citation={"title": "Nature", "article_title": "A result"})
    assert request.temporary_item is None and request.hold is None
    assert BibRecord.objects.count() == before


def test_request_numbers_count_up_per_institution(inst, setup):
    first = f.borrowing_request(inst, setup=setup)
    second = f.borrowing_request(inst, setup=setup)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_it_refuses_a_patron_of_another_institution(inst, setup):
    other = f.institution("KAISA")
    with pytest.raises(WorkflowError, match="another institution"):
        borrowing_request_create(institution=inst, patron=f.patron(other), request_type="loan",
                                 citation={"title": "X"}, pickup_desk=setup.desk)


def test_office_delivery_is_refused_for_patrons_whose_group_may_not_use_it(inst, setup):
    student = f.patron(inst, group=f.patron_group(inst, "STUDENT"), office_address="Room 1")
    with pytest.raises(WorkflowError, match="staff patrons only"):
        f.borrowing_request(inst, setup=setup, patron_=student, office_delivery=True)


def test_office_delivery_uses_the_patrons_office_address(inst, setup):
    staff_group = f.patron_group(inst, "STAFF", may_use_office_delivery=True)
    member = f.patron(inst, group=staff_group, office_address="Dept. of Maths, room 3")
    request = f.borrowing_request(inst, setup=setup, patron_=member, office_delivery=True)
    assert request.delivery_address == "Dept. of Maths, room 3"
    assert request.hold.office_delivery and request.pickup_desk is None


def test_sending_asks_the_first_partner_of_the_rota_and_records_the_attempt(
    inst, setup, staff, partners
):
    request = f.borrowing_request(inst, setup=setup, partners=partners)
    request = borrowing_request_send(request=request, user=staff)
    assert request.status == S.SENT and request.partner == partners[0]
    first = request.rota.get(position=1)
    assert first.outcome == RotaEntry.Outcome.ASKED
    # Our number and the position, readable, then a part no one can guess from another id.
    assert re.fullmatch(rf"{re.escape(request.number)}-1-[0-9a-f]{{12}}", first.attempt_id)
    entry = request.history.last()
    assert (entry.from_status, entry.to_status, entry.user) == (S.CREATED, S.SENT, staff)


def test_sending_without_any_partner_is_refused_with_a_reason(inst, setup, staff):
    request = f.borrowing_request(inst, setup=setup)
    with pytest.raises(WorkflowError, match="no partner left"):
        borrowing_request_send(request=request, user=staff)
    assert _fresh(request).status == S.CREATED


def test_a_rejection_moves_on_to_the_next_partner_with_a_fresh_attempt_id(
    inst, setup, staff, partners
):
    request = f.borrowing_request(inst, setup=setup, partners=partners)
    request = borrowing_request_send(request=request, user=staff)
    request = borrowing_request_rejected(request=request, reason="Not held", user=staff)
    assert request.status == S.READY and request.partner == partners[1]
    assert request.rota.get(position=1).outcome == RotaEntry.Outcome.REJECTED
    request = borrowing_request_send(request=request, user=staff)
    second = request.rota.get(position=2).attempt_id
    assert second.startswith(f"{request.number}-2-")
    assert second[-12:] != request.rota.get(position=1).attempt_id[-12:]
    actions = list(request.history.values_list("action", flat=True))
    assert actions == ["create", "send", "reject", "make_ready", "send"]


def test_the_end_of_the_rota_leaves_the_request_rejected_and_needing_attention(
    inst, setup, staff, partners
):
    request = f.borrowing_request(inst, setup=setup, partners=partners[:1])
    request = borrowing_request_send(request=request, user=staff)
    request = borrowing_request_rejected(request=request, reason="Non-circulating", user=staff)
    assert request.status == S.REJECTED
    assert request.needs_attention and "End of rota" in request.attention_reason


def test_a_rejection_needs_a_reason(inst, setup, staff, partners):
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=partners), user=staff)
    with pytest.raises(WorkflowError):
        borrowing_request_rejected(request=request, reason=" ", user=staff)


def test_refusing_the_partners_conditions_tries_the_next_partner(inst, setup, staff, partners):
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=partners), user=staff)
    request = borrowing_request_conditional(request=request, condition="Library use only",
                                            user=staff)
    assert request.status == S.CONDITIONAL and request.needs_attention
    request = borrowing_request_reject_conditions(request=request, user=staff)
    assert request.status == S.READY and request.partner == partners[1]
    assert request.condition_text == ""


def test_the_rota_can_be_changed_only_before_sending(inst, setup, staff, partners):
    request = f.borrowing_request(inst, setup=setup)
    request = borrowing_request_set_rota(request=request, partners=partners[::-1], user=staff)
    assert request.partner == partners[1]
    assert [e.partner for e in request.rota.all()] == partners[::-1]
    request = borrowing_request_send(request=request, user=staff)
    with pytest.raises(WorkflowError, match="before the request is sent"):
        borrowing_request_set_rota(request=request, partners=partners, user=staff)


def test_another_institutions_partner_cannot_join_the_rota(inst, setup, staff):
    foreign = f.partner(f.institution("KAISA"))
    request = f.borrowing_request(inst, setup=setup)
    with pytest.raises(WorkflowError, match="another institution"):
        borrowing_request_set_rota(request=request, partners=[foreign], user=staff)


def test_a_stale_version_is_refused_instead_of_overwriting_someone_elses_change(
    inst, setup, staff, partners
):
    request = f.borrowing_request(inst, setup=setup, partners=partners)
    seen_version = request.version
    borrowing_request_send(request=request, user=staff)  # a colleague was quicker
    with pytest.raises(WorkflowError, match="Someone else changed"):
        borrowing_request_will_supply(request=request, user=staff, version=seen_version)
    assert _fresh(request).status == S.SENT


def test_a_move_the_state_does_not_allow_is_refused_with_the_current_status(
    inst, setup, staff
):
    request = f.borrowing_request(inst, setup=setup)
    with pytest.raises(WorkflowError, match="Created borrowing request"):
        borrowing_request_shipped(request=request, user=staff)
    assert _fresh(request).history.count() == 1


def test_cancelling_before_sending_removes_the_temporary_records(inst, setup, staff):
    request = f.borrowing_request(inst, setup=setup)
    bib_id = request.temporary_item.bib_id
    request = borrowing_request_cancel(request=request, reason="Patron found it", user=staff)
    assert request.status == S.CANCELLED_STAFF
    assert not BibRecord.objects.filter(pk=bib_id).exists()
    assert request.temporary_item is None and request.reason == "Patron found it"


def test_cancelling_at_the_partner_waits_for_its_answer_then_cleans_up(
    inst, setup, staff, partners
):
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=partners), user=staff)
    request = borrowing_request_cancel(request=request, reason="No longer needed", user=staff)
    assert request.status == S.WAITING_CANCEL
    assert request.temporary_item is not None
    refused = borrowing_request_cancel_answer(request=request, cancelled=False, user=staff)
    assert refused.status == S.SENT
    request = borrowing_request_cancel(request=refused, reason="Still not needed", user=staff)
    done = borrowing_request_cancel_answer(request=request, cancelled=True, user=staff)
    assert done.status == S.CANCELLED_STAFF and done.temporary_item is None


def test_a_partner_whose_profile_needs_no_cancel_answer_is_cancelled_at_once(
    inst, setup, staff
):
    profile = f.workflow_profile(inst, use_cancel_response=False)
    partner = f.partner(inst, borrowing_profile=profile)
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=[partner]), user=staff)
    assert borrowing_request_cancel(request=request, reason="x", user=staff).status == \
        S.CANCELLED_STAFF


def test_editing_the_citation_updates_the_temporary_record_and_the_history(inst, setup, staff):
    request = f.borrowing_request(inst, setup=setup)
    request = borrowing_request_edit(request=request, user=staff, version=request.version,
                                     citation={"title": "Corrected title", "isbn": "123"})
    assert request.title == "Corrected title"
    assert request.temporary_item.bib.title == "Corrected title"
    assert request.history.last().action == "edit"


def test_found_in_the_own_collection_places_a_hold_and_closes_the_request(inst, setup, staff):
    request = f.borrowing_request(inst, setup=setup)
    own = f.item(setup.stacks, title="Borrowed book", barcodes=["OWN1"])
    request = borrowing_request_fill_from_collection(request=request, item=own, user=staff)
    assert request.status == S.COMPLETED
    hold = Hold.objects.get(item=own)
    assert hold.patron == request.patron and hold.state == Hold.State.WAITING
    assert request.temporary_item is None


def test_a_purchase_request_copies_the_citation_and_closes_the_request(inst, setup, staff):
    request = f.borrowing_request(inst, setup=setup,
                                  citation={"title": "Buy me", "isbn": "9780000000001"})
    request = borrowing_request_to_purchase(request=request, user=staff, note="Core title")
    purchase = PurchaseRequest.objects.get(borrowing_request=request)
    assert (purchase.title, purchase.isbn, purchase.patron) == (
        "Buy me", "9780000000001", request.patron)
    assert request.status == S.COMPLETED


def _on_loan(request, *, due, received_days_ago=1, renewals=0):
    BorrowingRequest.objects.filter(pk=request.pk).update(
        status=S.LOANED, patron_due_date=due, partner_due_date=due, renewals=renewals,
        # Noon of that local day: "now minus N days" crosses midnight near a daylight
        # saving change (late evening in December is past midnight in September).
        received_at=timezone.make_aware(datetime.datetime.combine(
            timezone.localdate() - datetime.timedelta(days=received_days_ago),
            datetime.time(12))))
    return _fresh(request)


def test_patrons_may_ask_for_renewal_only_inside_the_window_and_are_told_when_it_opens(
    inst, setup, partners
):
    today = timezone.localdate()
    request = _on_loan(f.borrowing_request(inst, setup=setup, partners=partners),
                       due=today + datetime.timedelta(days=20))
    refusal = renewal_refusal(request, by_patron=True)
    # Said as the desk says it, in the staff member's own date format.
    opens = date_format(today + datetime.timedelta(days=13), "SHORT_DATE_FORMAT")
    assert refusal and opens in refusal
    assert renewal_refusal(request, by_patron=False) is None  # staff may ask any time
    inside = _on_loan(request, due=today + datetime.timedelta(days=5))
    assert renewal_refusal(inside, by_patron=True) is None


def test_ill_loans_have_a_maximum_number_of_renewals(inst, setup, partners):
    today = timezone.localdate()
    request = _on_loan(f.borrowing_request(inst, setup=setup, partners=partners),
                       due=today + datetime.timedelta(days=3), renewals=2)
    assert "Renewed 2 times" in renewal_refusal(request, by_patron=False)


def test_ill_loans_have_a_maximum_total_loan_time(inst, setup, partners):
    today = timezone.localdate()
    request = _on_loan(f.borrowing_request(inst, setup=setup, partners=partners),
                       due=today + datetime.timedelta(days=4), received_days_ago=80)
    assert "84 days" in renewal_refusal(request, by_patron=False)


def test_a_granted_renewal_moves_the_patron_due_date_by_the_mail_delay(
    inst, setup, staff, partners
):
    today = timezone.localdate()
    request = f.borrowing_request(inst, setup=setup, partners=partners)
    request = borrowing_request_send(request=request, user=staff)
    request = _on_loan(request, due=today + datetime.timedelta(days=3))
    BorrowingRequest.objects.filter(pk=request.pk).update(status=S.RENEW_REQUESTED)
    new_due = today + datetime.timedelta(days=30)
    request = borrowing_request_renewal_answer(request=_fresh(request), granted=True,
                                               new_due_date=new_due, user=staff)
    assert request.status == S.RENEWED and request.renewals == 1
    assert request.partner_due_date == new_due
    assert request.patron_due_date == new_due - datetime.timedelta(days=3)


def test_the_patron_due_date_never_exceeds_the_ill_maximum_loan_time(
    inst, setup, staff, partners
):
    today = timezone.localdate()
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=partners), user=staff)
    request = _on_loan(request, due=today + datetime.timedelta(days=3), received_days_ago=60)
    BorrowingRequest.objects.filter(pk=request.pk).update(status=S.RENEW_REQUESTED)
    request = borrowing_request_renewal_answer(
        request=_fresh(request), granted=True, new_due_date=today + datetime.timedelta(days=60),
        user=staff)
    received = timezone.localtime(request.received_at).date()
    assert request.patron_due_date == received + datetime.timedelta(days=84)


def test_every_change_is_in_the_history_with_who_and_why(inst, setup, staff, partners):
    request = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=partners, user=staff),
        user=staff)
    borrowing_request_rejected(request=request, reason="Lost in their stacks", user=staff)
    rows = HistoryEntry.objects.filter(borrowing_request=request)
    reject = rows.get(action="reject")
    assert reject.user == staff and "Lost in their stacks" in reject.note
    assert rows.get(action="make_ready").source == "system"

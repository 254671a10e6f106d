"""Every allowed move of the borrowing state machine, and a sample of refused ones.

The table is written out by hand from DOMAIN.md §3 and Alma's statuses, independently of the
model's decorators, so a wrongly declared transition fails here.
"""

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from ill.models import BorrowingRequest
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db

ALLOWED = [
    (S.CREATED, "make_ready", S.READY),
    (S.REJECTED, "make_ready", S.READY),
    (S.CREATED, "send", S.SENT),
    (S.READY, "send", S.SENT),
    (S.REJECTED, "send", S.SENT),
    (S.SENT, "accept", S.ACCEPTED),
    (S.SENT, "will_supply", S.WILL_SUPPLY),
    (S.ACCEPTED, "will_supply", S.WILL_SUPPLY),
    (S.SENT, "set_conditional", S.CONDITIONAL),
    (S.WILL_SUPPLY, "set_conditional", S.CONDITIONAL),
    (S.CONDITIONAL, "accept_conditions", S.WILL_SUPPLY),
    (S.SENT, "reject", S.REJECTED),
    (S.WILL_SUPPLY, "reject", S.REJECTED),
    (S.CONDITIONAL, "reject", S.REJECTED),
    (S.SENT, "ship_physically", S.SHIPPED_PHYSICAL),
    (S.WILL_SUPPLY, "ship_physically", S.SHIPPED_PHYSICAL),
    (S.SHIPPED_PHYSICAL, "receive", S.RECEIVED),
    (S.WILL_SUPPLY, "receive", S.RECEIVED),
    (S.RECEIVED, "loan_to_patron", S.LOANED),
    (S.RETURNED_BY_PATRON, "loan_to_patron", S.LOANED),
    (S.LOANED, "request_renewal", S.RENEW_REQUESTED),
    (S.RENEWED, "request_renewal", S.RENEW_REQUESTED),
    (S.OVERDUE, "request_renewal", S.RENEW_REQUESTED),
    (S.RENEW_REQUESTED, "renewal_granted", S.RENEWED),
    (S.RENEW_REQUESTED, "renewal_refused", S.RENEWAL_REFUSED),
    (S.LOANED, "mark_overdue", S.OVERDUE),
    (S.RENEWED, "mark_overdue", S.OVERDUE),
    (S.LOANED, "recall", S.RECALLED),
    (S.RECEIVED, "recall", S.RECALLED),
    (S.LOANED, "return_by_patron", S.RETURNED_BY_PATRON),
    (S.OVERDUE, "return_by_patron", S.RETURNED_BY_PATRON),
    (S.RECALLED, "return_by_patron", S.RETURNED_BY_PATRON),
    (S.RETURNED_BY_PATRON, "return_to_partner", S.RETURNED_TO_PARTNER),
    (S.RECEIVED, "return_to_partner", S.RETURNED_TO_PARTNER),
    (S.RECALLED, "return_to_partner", S.RETURNED_TO_PARTNER),
    (S.RETURNED_TO_PARTNER, "complete", S.COMPLETED),
    (S.LOANED, "report_lost", S.LOST),
    (S.LOANED, "report_damaged", S.DAMAGED),
    (S.LOST, "complete", S.COMPLETED),
    (S.SENT, "ask_to_cancel", S.WAITING_CANCEL),
    (S.WILL_SUPPLY, "ask_to_cancel", S.WAITING_CANCEL),
    (S.WAITING_CANCEL, "cancel_refused", S.SENT),
    (S.WAITING_CANCEL, "cancel_by_staff", S.CANCELLED_STAFF),
    (S.WAITING_CANCEL, "cancel_by_partner", S.CANCELLED_PARTNER),
    (S.CREATED, "cancel_by_staff", S.CANCELLED_STAFF),
    (S.READY, "cancel_by_patron", S.CANCELLED_PATRON),
    (S.SENT, "cancel_by_partner", S.CANCELLED_PARTNER),
    (S.SENT, "expire", S.EXPIRED),
    (S.COMPLETED, "reactivate", S.READY),
    (S.CANCELLED_STAFF, "reactivate", S.READY),
    (S.EXPIRED, "reactivate", S.READY),
    (S.CREATED, "close_fulfilled_otherwise", S.COMPLETED),
]

REFUSED = [
    (S.CREATED, "receive"),
    (S.CREATED, "loan_to_patron"),
    (S.READY, "will_supply"),
    (S.COMPLETED, "send"),
    (S.CANCELLED_STAFF, "receive"),
    (S.LOANED, "send"),
    (S.LOANED, "cancel_by_staff"),
    (S.RETURNED_TO_PARTNER, "loan_to_patron"),
    (S.RECEIVED, "ship_physically"),
    (S.SENT, "complete"),
    (S.WAITING_CANCEL, "receive"),
    (S.RENEW_REQUESTED, "request_renewal"),
    (S.RETURNED_TO_PARTNER, "return_by_patron"),
    (S.EXPIRED, "send"),
]


def _request_in(status, request_type="loan", profile=None):
    inst = f.institution()
    partner = f.partner(inst, borrowing_profile=profile)
    request = f.borrowing_request(inst, partners=[partner], request_type=request_type)
    # Put the row straight into the state under test (the field is protected against
    # assignment on instances, not in the database).
    BorrowingRequest.objects.filter(pk=request.pk).update(status=status)
    return BorrowingRequest.objects.get(pk=request.pk)


@pytest.mark.parametrize(("source", "name", "target"), ALLOWED,
                         ids=[f"{s}-{n}" for s, n, _ in ALLOWED])
def test_each_allowed_move_reaches_its_state(source, name, target):
    request = _request_in(source)
    getattr(request, name)()
    assert request.status == target


@pytest.mark.parametrize(("source", "name"), REFUSED, ids=[f"{s}-{n}" for s, n in REFUSED])
def test_moves_that_make_no_sense_are_refused(source, name):
    request = _request_in(source)
    assert not can_proceed(getattr(request, name))
    with pytest.raises(TransitionNotAllowed):
        getattr(request, name)()


def test_articles_ship_digitally_and_never_physically():
    article = _request_in(S.SENT, request_type="article")
    assert can_proceed(article.ship_digitally)
    assert not can_proceed(article.ship_physically)
    assert not can_proceed(article.receive)
    book = _request_in(S.SENT)
    assert not can_proceed(book.ship_digitally)


def test_the_partners_workflow_profile_switches_optional_steps_off():
    inst = f.institution()
    profile = f.workflow_profile(inst, use_will_supply=False, use_conditional=False,
                                 use_renew=False, use_cancel_response=False)
    partner = f.partner(inst, borrowing_profile=profile)
    request = f.borrowing_request(inst, partners=[partner])
    BorrowingRequest.objects.filter(pk=request.pk).update(status=S.SENT)
    request.refresh_from_db()
    assert not can_proceed(request.will_supply)
    assert not can_proceed(request.set_conditional)
    assert not can_proceed(request.ask_to_cancel)
    assert can_proceed(request.ship_physically)
    BorrowingRequest.objects.filter(pk=request.pk).update(status=S.LOANED)
    request.refresh_from_db()
    assert not can_proceed(request.request_renewal)


def test_the_status_cannot_be_assigned_directly():
    request = _request_in(S.CREATED)
    with pytest.raises(AttributeError):
        request.status = S.COMPLETED


def test_draw_the_state_diagram_prints_every_state(capsys):
    from django.core.management import call_command

    call_command("borrowing_state_diagram")
    dot = capsys.readouterr().out
    assert dot.startswith("digraph")
    for status in S:
        assert f'"{status.value}"' in dot
    assert '"sent" -> "will_supply"' in dot

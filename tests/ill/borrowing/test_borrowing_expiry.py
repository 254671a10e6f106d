"""Borrowing requests a partner never answers move on, then expire (issue 11, point 2):
the borrowing profile's "expire unanswered after N days" did nothing before."""

import datetime

import pytest
from django.utils import timezone

from ill.borrowing import services as bs
from ill.borrowing.tasks import expire_borrowing_requests
from ill.models import BorrowingRequest
from tests import factories as f

S = BorrowingRequest.S
pytestmark = pytest.mark.django_db



@pytest.fixture
def profile(inst):
    return f.workflow_profile(inst, expire_after_days=10)


def _sent(inst, setup, staff, partners):
    request = f.borrowing_request(inst, setup=setup, partners=partners)
    return bs.borrowing_request_send(request=request, user=staff)


def _later(days):
    return timezone.now() + datetime.timedelta(days=days)


def test_an_unanswered_request_goes_to_the_next_partner_then_expires(inst, setup, rs_staff, profile, mailoutbox):
    staff = rs_staff
    first = f.partner(inst, code="NRL", borrowing_profile=profile, email="nrl@example.org")
    second = f.partner(inst, code="RDL", borrowing_profile=profile, email="rdl@example.org")
    request = _sent(inst, setup, staff, [first, second])

    assert expire_borrowing_requests(now=_later(9)) == 0
    assert BorrowingRequest.objects.get(pk=request.pk).status == S.SENT

    assert expire_borrowing_requests(now=_later(11)) == 1
    request = BorrowingRequest.objects.get(pk=request.pk)
    assert request.status == S.SENT and request.partner == second
    assert request.rota.get(partner=first).reason == "No answer within 10 days."

    assert expire_borrowing_requests(now=_later(22)) == 1
    request = BorrowingRequest.objects.get(pk=request.pk)
    assert request.status == S.EXPIRED
    assert request.history.filter(to_status=S.EXPIRED, note__contains="No partner left").exists()
    assert request.hold_id is None and request.temporary_item_id is None  # cleaned up


def test_without_a_profile_day_count_nothing_expires(inst, setup, rs_staff, profile):
    staff = rs_staff
    patient = f.workflow_profile(inst, name="patient")
    partner = f.partner(inst, code="NRL", borrowing_profile=patient)
    request = _sent(inst, setup, staff, [partner])
    assert expire_borrowing_requests(now=_later(365)) == 0
    assert BorrowingRequest.objects.get(pk=request.pk).status == S.SENT


def test_an_answered_request_does_not_expire(inst, setup, rs_staff, profile):
    staff = rs_staff
    partner = f.partner(inst, code="NRL", borrowing_profile=profile)
    request = _sent(inst, setup, staff, [partner])
    bs.borrowing_request_will_supply(request=request, user=staff)
    assert expire_borrowing_requests(now=_later(30)) == 0
    assert BorrowingRequest.objects.get(pk=request.pk).status == S.WILL_SUPPLY

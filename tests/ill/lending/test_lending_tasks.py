"""Periodic lending jobs, called directly: expiry, automatic renewal, overdue notices."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from circulation.models import Hold
from fulfillment.models import Item
from ill.lending import services as ls
from ill.lending import tasks
from ill.models import LendingRequest
from tests import factories as f

S = LendingRequest.Status
pytestmark = pytest.mark.django_db






@pytest.fixture
def profile(inst):
    return f.workflow_profile(inst, side="lending", expire_after_days=3, auto_renew=True,
                              overdue_notice_resend_days=7)


@pytest.fixture
def partner(inst, profile):
    return f.partner(inst, code="NRL", lending_profile=profile, email="ill@nrl.example.org")


@pytest.fixture
def book(setup):
    return f.item(setup.stacks, title="Kalevala", barcodes=("K1",))


def _lend(inst, setup, partner):
    return f.lending_request(inst, setup=setup, partner_=partner, citation={"title": "Kalevala"})


def test_unanswered_requests_expire_after_the_profiles_days(
        inst, setup, partner, book, django_capture_on_commit_callbacks):
    r = _lend(inst, setup, partner)
    assert tasks.expire_lending_requests() == 0
    later = timezone.now() + datetime.timedelta(days=4)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_lending_requests(now=later) == 1
    r.refresh_from_db()
    book.refresh_from_db()
    assert r.status == S.EXPIRED
    assert (book.status, book.location) == (Item.Status.IN_PLACE, setup.stacks)
    assert mail.outbox and r.number in mail.outbox[-1].body
    assert tasks.expire_lending_requests(now=later) == 0  # safe to run again


def test_answered_requests_and_partners_without_expiry_never_expire(inst, setup, partner,
                                                                     book):
    r = ls.lending_request_will_supply(request=_lend(inst, setup, partner))
    other = f.partner(inst)  # no profile
    f.lending_request(inst, setup=setup, partner_=other, citation={"title": "Nope"})
    assert tasks.expire_lending_requests(now=timezone.now() + datetime.timedelta(days=60)) == 0
    r.refresh_from_db()
    assert r.status == S.WILL_SUPPLY


def test_a_lapsed_condition_expires(inst, setup, partner, book):
    r = ls.lending_request_conditional(
        request=_lend(inst, setup, partner), condition="Library use only",
        reply_by=timezone.localdate() - datetime.timedelta(days=1))
    assert tasks.expire_lending_requests() == 1
    r.refresh_from_db()
    assert r.status == S.EXPIRED


def test_auto_renew_job_answers_once_the_holds_are_gone(inst, setup, partner, book):
    r = ls.lending_request_ship(request=_lend(inst, setup, partner), barcode="K1")
    hold = Hold.objects.create(institution=inst, patron=f.patron(inst), bib=book.bib)
    r = ls.lending_request_renewal_asked(request=r)
    assert r.status == S.RENEW_REQUESTED
    assert tasks.auto_renew_lending() == 0
    Hold.objects.filter(pk=hold.pk).delete()
    assert tasks.auto_renew_lending() == 1
    r.refresh_from_db()
    assert r.status == S.RECEIVED and r.renewals == 1


def test_overdue_notice_then_resend_after_the_interval(inst, setup, partner, book,
                                                       django_capture_on_commit_callbacks):
    r = ls.lending_request_ship(request=_lend(inst, setup, partner), barcode="K1")
    assert tasks.send_lending_overdue_notices() == 0
    LendingRequest.objects.filter(pk=r.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_lending_overdue_notices() == 1
    r.refresh_from_db()
    assert r.status == S.OVERDUE and len(mail.outbox) == 1
    assert tasks.send_lending_overdue_notices() == 0  # not again the same day
    later = timezone.now() + datetime.timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_lending_overdue_notices(now=later) == 1
    assert len(mail.outbox) == 2


def test_the_jobs_are_scheduled(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"ill.expire_lending_requests", "ill.auto_renew_lending",
            "ill.send_lending_overdue_notices"} <= scheduled

"""Periodic lending jobs (celery beat; see settings.CELERY_BEAT_SCHEDULE), each switched on
per partner by its lending workflow profile.

Every job is safe to run again at any time: it picks the rows that still need it and moves
each through the same service as a staff action, which locks the row and re-checks the
state, so a request a librarian answered a moment ago is simply skipped. Tests call the
functions directly.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from ill.lending.automation import flag_unanswered_lending, warn_lending_condition_reply_by
from ill.lending.services import (
    auto_renew,
    lending_request_expire,
    lending_request_overdue_notice,
)
from ill.models import LendingRequest, Source
from ill.workflow import WorkflowError
from kauko.errors import DomainError
from partners.models import WorkflowProfile

logger = logging.getLogger(__name__)
LR = LendingRequest


def _each(queryset, work) -> int:
    done = 0
    for request in queryset.select_related("partner__lending_profile", "rs_library",
                                           "item__bib", "institution")[:10000]:
        try:
            work(request)
        except DomainError as exc:  # moved on since we looked: nothing to do
            logger.info("Lending job skipped %s: %s", request.number, exc.message)
        else:
            done += 1
    return done


def _profiles(**flags):
    return WorkflowProfile.objects.filter(side=WorkflowProfile.Side.LENDING, **flags)


@shared_task(name="ill.expire_lending_requests")
def expire_lending_requests(now: datetime.datetime | None = None) -> int:
    """Requests we did not answer within the profile's days expire (and the partner is
    told); so do conditions the borrower left unanswered past the reply-by date."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = 0
    # Per profile: each has its own number of days (a handful of profiles in all).
    for profile in _profiles(expire_after_days__isnull=False):
        cutoff = now - datetime.timedelta(days=profile.expire_after_days)
        rows = LR.objects.filter(partner__lending_profile=profile).filter(
            Q(status__in=LR.UNANSWERED, created_at__lt=cutoff)
            | Q(status=LR.S.CONDITIONAL, condition_reply_by__lt=today))
        done += _each(rows, lambda r: lending_request_expire(request=r))
    return done


@shared_task(name="ill.auto_renew_lending")
def auto_renew_lending() -> int:
    """Renewal requests waiting for partners whose profile renews automatically (e.g. asked
    while our patrons had holds that have since gone)."""
    rows = LR.objects.filter(status=LR.S.RENEW_REQUESTED,
                             partner__lending_profile__auto_renew=True)
    return _each(rows, lambda r: auto_renew(request=r) or _not_now(r))


def _not_now(request):
    raise WorkflowError("our own patrons are waiting for it")


@shared_task(name="ill.send_lending_overdue_notices")
def send_lending_overdue_notices(now: datetime.datetime | None = None) -> int:
    """Tell the borrower our item is overdue, then again every N days if the profile says
    so. Partners without a profile get the first notice only."""
    now = now or timezone.now()
    today = timezone.localdate(now)

    def notify(r):
        lending_request_overdue_notice(request=r, source=Source.SYSTEM)

    late = LR.objects.filter(due_date__lt=today).exclude(
        partner__lending_profile__use_overdue=False)
    done = _each(late.filter(status__in=[s for s in LR.AWAY if s != LR.S.OVERDUE]), notify)
    for profile in _profiles(use_overdue=True, overdue_notice_resend_days__isnull=False):
        resend_before = now - datetime.timedelta(days=profile.overdue_notice_resend_days)
        again = late.filter(status=LR.S.OVERDUE, partner__lending_profile=profile).filter(
            Q(last_overdue_notice_at__isnull=True) | Q(last_overdue_notice_at__lte=resend_before))
        done += _each(again, notify)
    return done


@shared_task(name="ill.flag_unanswered_lending")
def flag_unanswered_lending_task() -> int:
    """Lending requests unanswered for the institution's days are flagged."""
    return flag_unanswered_lending()


@shared_task(name="ill.warn_lending_condition_reply_by")
def warn_lending_condition_reply_by_task() -> int:
    return warn_lending_condition_reply_by()

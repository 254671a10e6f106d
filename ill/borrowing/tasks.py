"""Borrowing's periodic jobs (celery beat), each safe to run again at any time."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from ill.borrowing.autosend import (
    auto_send_sweep,
    borrowing_request_auto_send,
    chase_silent_partners,
    warn_condition_reply_by,
)
from ill.borrowing.services import borrowing_request_unanswered
from ill.models import BorrowingRequest
from kauko.errors import DomainError
from partners.models import WorkflowProfile

logger = logging.getLogger(__name__)
BR = BorrowingRequest


@shared_task(name="ill.expire_borrowing_requests")
def expire_borrowing_requests(now: datetime.datetime | None = None) -> int:
    """Requests a partner left unanswered past its borrowing profile's days move on to the
    next partner in the rota, or expire when none is left."""
    now = now or timezone.now()
    done = 0
    for profile in WorkflowProfile.objects.filter(side=WorkflowProfile.Side.BORROWING,
                                                  expire_after_days__isnull=False):
        cutoff = now - datetime.timedelta(days=profile.expire_after_days)
        rows = (BR.objects.filter(partner__borrowing_profile=profile, status=BR.S.SENT,
                                  status_changed_at__lt=cutoff)
                .select_related("partner__borrowing_profile", "institution")[:10000])
        for request in rows:
            try:
                borrowing_request_unanswered(request=request, days=profile.expire_after_days)
            except DomainError as exc:  # moved on since we looked: nothing to do
                logger.info("Borrowing job skipped %s: %s", request.number, exc.message)
            else:
                done += 1
    return done


# --- automation (ill/borrowing/autosend.py) ---------------------------------------------------


@shared_task(name="ill.auto_send_borrowing_request")
def auto_send_borrowing_request(request_id: int) -> str:
    """Locate, then send to the first partner holding it (after the creation committed)."""
    request = BR.objects.filter(pk=request_id).first()
    if request is None:
        return ""
    return borrowing_request_auto_send(request=request).status


@shared_task(name="ill.auto_send_sweep")
def auto_send_sweep_task() -> int:
    return auto_send_sweep()


@shared_task(name="ill.chase_silent_partners")
def chase_silent_partners_task() -> int:
    """Partners silent past their average supply time: StatusRequest or reminder, then flag."""
    return chase_silent_partners()


@shared_task(name="ill.warn_condition_reply_by")
def warn_condition_reply_by_task() -> int:
    return warn_condition_reply_by()

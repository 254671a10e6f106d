"""Lending timers: what staff are told when a lending request waits too long on us, or our
condition's reply-by date comes near or passes. Each only raises the flag, in words."""

from __future__ import annotations

import datetime

from django.utils import formats, timezone

from ill.models import AutomationSettings, LendingRequest, Source
from ill.workflow import flag, record
from kauko.i18n import gettext as _  # history notes read in each reader's language

LR = LendingRequest
WAITING_ON_US = (LR.S.CREATED, LR.S.LOCATE_FAILED, LR.S.PROCESSING)


def _flag(request, reason: str) -> bool:
    if request.needs_attention and request.attention_reason == reason:
        return False
    flag(request=request, reason=reason)
    record(request=request, action="flag", source=Source.SYSTEM, from_status=request.status,
           to_status=request.status, note=reason)
    return True


def flag_unanswered_lending(*, now: datetime.datetime | None = None) -> int:
    """Lending requests nobody answered within the institution's days are flagged."""
    now = now or timezone.now()
    done = 0
    for settings in AutomationSettings.objects.filter(lending_unanswered_days__isnull=False):
        days = settings.lending_unanswered_days
        rows = LR.objects.filter(institution_id=settings.institution_id,
                                 status__in=WAITING_ON_US, needs_attention=False,
                                 created_at__lt=now - datetime.timedelta(days=days))
        for request in rows[:10000]:
            done += _flag(request, _("Unanswered for %(days)s days: tell the partner whether "
                                     "we can supply it.") % {"days": days})
    return done


def warn_lending_condition_reply_by(*, today: datetime.date | None = None) -> int:
    """Our condition the borrower must answer by a date near or past: flagged."""
    today = today or timezone.localdate()
    done = 0
    for settings in AutomationSettings.objects.filter(condition_warn_days__isnull=False):
        horizon = today + datetime.timedelta(days=settings.condition_warn_days)
        for request in LR.objects.filter(institution_id=settings.institution_id,
                                         status=LR.S.CONDITIONAL,
                                         condition_reply_by__lte=horizon)[:10000]:
            when = formats.date_format(request.condition_reply_by, "SHORT_DATE_FORMAT")
            if request.condition_reply_by < today:
                reason = _("The partner did not answer our condition by %(when)s: withdraw "
                           "the offer (Unfilled) or ask them.") % {"when": when}
            else:
                reason = _("The partner should answer our condition by %(when)s.") % {
                    "when": when}
            done += _flag(request, reason)
    return done

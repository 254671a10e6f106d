"""Periodic circulation jobs (celery beat; see settings.CELERY_BEAT_SCHEDULE).

Each job is safe to run again at any time: it picks only the rows that still need it, locks
each row while it works on it, and marks it done in the same transaction. Letters go out
after commit. Tests call the functions directly.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from circulation.hooks import ill_bridge
from circulation.letters import queue_patron_letter
from circulation.models import Hold, Loan
from circulation.services import DeskError, renew_loan
from fulfillment.models import Item

logger = logging.getLogger(__name__)

REMINDER_DAYS_BEFORE = 3
OVERDUE_RESEND_DAYS = 7
AUTO_RENEW_DAYS_BEFORE = 7  # when the terms of use have no renewal window


def _open_loans():
    return Loan.objects.filter(returned_at__isnull=True).select_related(
        "patron__group", "item__bib", "item__institution", "terms_of_use", "desk__library")


@shared_task(name="circulation.send_due_date_reminders")
def send_due_date_reminders(now: datetime.datetime | None = None) -> int:
    """Remind patrons a few days before the due date (once per due date)."""
    now = now or timezone.now()
    soon = now + datetime.timedelta(days=REMINDER_DAYS_BEFORE)
    sent = 0
    candidates = _open_loans().filter(due_at__gt=now, due_at__lte=soon)
    for loan_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            # Lock: two beat runs overlapping must not remind twice.
            loan = _open_loans().select_for_update(of=("self",)).filter(pk=loan_id).first()
            if loan is None or (loan.last_reminder_at and loan.last_reminder_at
                                >= loan.due_at - datetime.timedelta(days=REMINDER_DAYS_BEFORE)):
                continue
            loan.last_reminder_at = now
            loan.save(update_fields=["last_reminder_at"])
            queue_patron_letter(code="due_date_reminder", loan=loan)
            sent += 1
    return sent


@shared_task(name="circulation.send_overdue_notices")
def send_overdue_notices(now: datetime.datetime | None = None) -> int:
    """Tell patrons their loan is overdue; again every week while it stays overdue."""
    now = now or timezone.now()
    resend_before = now - datetime.timedelta(days=OVERDUE_RESEND_DAYS)
    sent = 0
    for loan_id in _open_loans().filter(due_at__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            loan = _open_loans().select_for_update(of=("self",)).filter(pk=loan_id).first()
            if loan is None or (loan.last_overdue_notice_at
                                and loan.last_overdue_notice_at > resend_before):
                continue
            loan.last_overdue_notice_at = now
            loan.save(update_fields=["last_overdue_notice_at"])
            queue_patron_letter(code="overdue_notice", loan=loan)
            sent += 1
    return sent


@shared_task(name="circulation.expire_hold_shelf")
def expire_hold_shelf(today: datetime.date | None = None) -> int:
    """Holds not picked up by their deadline expire: the patron is told, ILL is told (the
    request is updated), and the hold shelf list shows the item to pull; scanning it sends
    an ILL item back to the RS library."""
    today = today or timezone.localdate()
    expired = 0
    due = Hold.objects.filter(state=Hold.State.ON_HOLD_SHELF, pickup_deadline__lt=today)
    for hold_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # Lock: the desk loaning the item at this very moment wins or waits, never both.
            hold = (Hold.objects.select_for_update(of=("self",))
                    .select_related("patron__group", "item__bib", "item__institution",
                                    "shelf_desk__library")
                    .filter(pk=hold_id, state=Hold.State.ON_HOLD_SHELF).first())
            if hold is None:
                continue
            hold.expire()
            hold.closed_at = timezone.now()
            hold.save()
            if hold.item is not None and hold.is_ill:
                ill_bridge().hold_shelf_expired(hold=hold)
            if hold.item is not None:
                queue_patron_letter(code="hold_shelf_expired_notice", hold=hold)
            expired += 1
    return expired


@shared_task(name="circulation.auto_renew_ill_loans")
def auto_renew_ill_loans(now: datetime.datetime | None = None) -> int:
    """Renew ILL loans of patron groups whose terms of use say so (staff), through the
    borrowing request, once per due date, when the due date is within the renewal window."""
    now = now or timezone.now()
    asked = 0
    loans = _open_loans().filter(is_ill=True, terms_of_use__isnull=False,
                                 due_at__lte=now + datetime.timedelta(days=31))
    for loan in loans:
        terms = loan.terms_of_use
        if not terms.auto_renews_for(loan.patron.group.code):
            continue
        window = datetime.timedelta(days=terms.renewal_window_days
                                    if terms.renewal_window_days is not None
                                    else AUTO_RENEW_DAYS_BEFORE)
        if loan.due_at - window > now:
            continue
        if loan.renewal_requested_at and loan.renewal_requested_at >= loan.due_at - window:
            continue  # already asked for this due date
        try:
            renew_loan(loan=loan, user=None, by_patron=False)
        except DeskError as refused:
            logger.info("Auto-renewal of loan %s refused: %s", loan.pk, refused.message)
            with transaction.atomic():
                Loan.objects.filter(pk=loan.pk).update(renewal_requested_at=now)
                # Once per due date (the update above): staff get a flag, the patron a letter.
                ill_bridge().auto_renewal_refused(loan=loan, reason=refused.message)
            continue
        asked += 1
    return asked


def items_to_pull(*, desk):
    """Items still on this desk's hold shelf whose hold has ended (expired or cancelled)."""
    return (Item.objects.filter(status=Item.Status.ON_HOLD_SHELF, holds__shelf_desk=desk)
            .exclude(holds__state__in=Hold.ACTIVE_STATES).distinct())

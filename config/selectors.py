from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.models import CirculationDesk, Item, Library
from ill.borrowing.filters import QUEUES as BORROWING_QUEUES
from ill.borrowing.selectors import queue_counts as borrowing_queue_counts
from ill.lending.filters import QUEUES as LENDING_QUEUES
from ill.lending.selectors import queue_counts as lending_queue_counts
from ill.models import BorrowingRequest, LendingRequest
from partners.models import Partner, WorkflowProfile
from patrons.models import Patron


def institution_overview(*, institution) -> dict[str, int]:
    """Counts shown on the staff home page."""
    return {
        "libraries": Library.objects.for_institution(institution).count(),
        "desks": CirculationDesk.objects.for_institution(institution).count(),
        "partners": Partner.objects.for_institution(institution).filter(active=True).count(),
        "patrons": Patron.objects.for_institution(institution).count(),
        "items": Item.objects.for_institution(institution).filter(is_temporary=False).count(),
    }


# --- the RS office's start of the day -------------------------------------------------------------

ATTENTION_SHOWN = 10
DUE_BACK_SHOWN = 20


def _queues(*, model, queues, counts: dict, institution, since, list_url: str) -> list[dict]:
    """Each queue with its count and how many of its requests came into it since `since`
    (their status changed, or they were flagged, after it): one query."""
    new = dict.fromkeys(queues, 0)
    if since is not None:
        union = Q()
        for queue in queues.values():
            union |= queue.q
        new = (model.objects.filter(institution=institution, status_changed_at__gt=since)
               .filter(union)
               .aggregate(**{key: Count("pk", filter=queue.q) for key, queue in queues.items()}))
    return [{"key": key, "label": str(queue.label), "count": counts.get(key, 0),
             "new": new.get(key) or 0, "url": f"{list_url}?queue={key}"}
            for key, queue in queues.items()]


def _attention(*, model, institution, url_name: str) -> list[dict]:
    rows = (model.objects.filter(institution=institution, needs_attention=True)
            .exclude(status__in=model.FINAL).order_by("status_changed_at", "pk")
            .values("pk", "number", "title", "attention_reason")[:ATTENTION_SHOWN])
    return [{"number": r["number"], "title": r["title"], "reason": r["attention_reason"],
             "url": reverse(url_name, args=[r["pk"]])} for r in rows]


def _timers(*, institution, today) -> list[dict]:
    """What the nightly jobs and the calendar will do tonight unless staff act today: one
    count each (a handful of workflow profiles, each with its own number of days)."""
    tonight = timezone.make_aware(datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time.min))
    profiles = list(WorkflowProfile.objects.for_institution(institution)
                    .filter(expire_after_days__isnull=False).values_list("pk", "side",
                                                                         "expire_after_days"))
    borrowing_expiry, lending_expiry = Q(pk__in=[]), Q(pk__in=[])
    for pk, side, days in profiles:
        cutoff = tonight - datetime.timedelta(days=days)
        if side == WorkflowProfile.Side.BORROWING:
            borrowing_expiry |= Q(partner__borrowing_profile=pk, status=BorrowingRequest.S.SENT,
                                  status_changed_at__lt=cutoff)
        else:
            lending_expiry |= Q(partner__lending_profile=pk,
                                status__in=LendingRequest.UNANSWERED, created_at__lt=cutoff)
    borrowing = BorrowingRequest.objects.filter(institution=institution).aggregate(
        expire=Count("pk", filter=borrowing_expiry),
        conditions=Count("pk", filter=Q(status=BorrowingRequest.S.CONDITIONAL,
                                        condition_reply_by__lte=today)))
    lending = LendingRequest.objects.filter(institution=institution).aggregate(
        expire=Count("pk", filter=lending_expiry),
        conditions=Count("pk", filter=Q(status=LendingRequest.S.CONDITIONAL,
                                        condition_reply_by__lte=today)),
        due=Count("pk", filter=Q(status__in=LendingRequest.AWAY, due_date=today)))
    borrowing_list, lending_list = reverse("ill:borrowing_list"), reverse("ill:lending_list")
    return [
        {"key": "borrowing_expire", "count": borrowing["expire"] or 0,
         "url": f"{borrowing_list}?status={BorrowingRequest.S.SENT}",
         "label": _("Borrowing requests a partner left unanswered: they move on or expire "
                    "tonight")},
        {"key": "borrowing_conditions", "count": borrowing["conditions"] or 0,
         "url": f"{borrowing_list}?queue=conditional",
         "label": _("Partners' conditions to answer by today")},
        {"key": "lending_expire", "count": lending["expire"] or 0,
         "url": f"{lending_list}?queue=new",
         "label": _("Lending requests we have not answered: they expire tonight")},
        {"key": "lending_conditions", "count": lending["conditions"] or 0,
         "url": f"{lending_list}?queue=conditional",
         "label": _("Our conditions the borrower has not answered: they lapse tonight")},
        {"key": "lending_due", "count": lending["due"] or 0,
         "url": f"{lending_list}?queue=overdue",
         "label": _("Our items due back today: overdue from tomorrow")},
    ]


def dashboard(*, institution, since=None, today=None) -> dict:
    """What the RS office starts its day with, as plain values: each work queue with its count
    and how many are new since `since` (the user's last look), requests needing attention
    with why, loans due back to partners this week, and the newest lending request (the
    page's refresh says when a newer one arrives)."""
    today = today or timezone.localdate()
    week_end = today + datetime.timedelta(days=7)
    due = (BorrowingRequest.objects
           .filter(institution=institution, status__in=BorrowingRequest.HAS_ITEM,
                   partner_due_date__lte=week_end)
           .order_by("partner_due_date", "pk"))
    due_rows = due.values("pk", "number", "title", "partner__name", "partner_due_date",
                          "status")[:DUE_BACK_SHOWN]
    statuses = dict(BorrowingRequest.Status.choices)
    newest = (LendingRequest.objects.filter(institution=institution)
              .order_by("-pk").values_list("pk", flat=True).first())
    return {
        "borrowing_queues": _queues(
            model=BorrowingRequest, queues=BORROWING_QUEUES,
            counts=borrowing_queue_counts(institution=institution), institution=institution,
            since=since, list_url=reverse("ill:borrowing_list")),
        "lending_queues": _queues(
            model=LendingRequest, queues=LENDING_QUEUES,
            counts=lending_queue_counts(institution=institution), institution=institution,
            since=since, list_url=reverse("ill:lending_list")),
        "borrowing_attention": _attention(model=BorrowingRequest, institution=institution,
                                          url_name="ill:borrowing_detail"),
        "lending_attention": _attention(model=LendingRequest, institution=institution,
                                        url_name="ill:lending_detail"),
        "due_back": [{"number": r["number"], "title": r["title"],
                      "partner": r["partner__name"], "due": r["partner_due_date"],
                      "late": r["partner_due_date"] < today,
                      "status": str(statuses.get(r["status"], r["status"])),
                      "url": reverse("ill:borrowing_detail", args=[r["pk"]])}
                     for r in due_rows],
        "due_back_total": due.count() if len(due_rows) == DUE_BACK_SHOWN else len(due_rows),
        "timers": _timers(institution=institution, today=today),
        "newest_lending": newest or 0,
        "new_lending": (LendingRequest.objects
                        .filter(institution=institution, created_at__gt=since).count()
                        if since is not None else 0),
    }

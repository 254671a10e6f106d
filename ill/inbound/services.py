"""Retention of ISO 18626 traffic: what is kept of the messages, and for how long.

`iso_traffic_prune` runs daily (Celery beat, `ill.prune_iso_traffic`). It deletes
- messages nobody is known to have sent (unknown recipient or sender, wrong or missing
  credentials, unreadable: stored cut short, see `ill.inbound.endpoint`) after
  ISO18626_UNATTRIBUTED_RETENTION_DAYS (default 30), and
- all other messages, both directions, after ISO18626_RETENTION_DAYS (default 730; 0 keeps
  them for ever), except those still waiting in the outbox to be sent.
Requests keep their history entries; only the message log and the raw XML go.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from ill.models import IsoMessage, OutboxMessage

BATCH = 1000


def retention_days() -> int:
    return int(getattr(settings, "ISO18626_RETENTION_DAYS", 730))


def unattributed_retention_days() -> int:
    return int(getattr(settings, "ISO18626_UNATTRIBUTED_RETENTION_DAYS", 30))


def _delete_in_batches(queryset) -> int:
    """Short transactions: a large backlog never holds a long lock on the message table."""
    removed = 0
    while True:
        batch = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not batch:
            return removed
        IsoMessage.objects.filter(pk__in=batch).delete()
        removed += len(batch)


def iso_traffic_prune(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete the traffic older than its retention; returns how many of each kind."""
    now = now or timezone.now()
    unattributed = IsoMessage.objects.filter(
        direction=IsoMessage.Direction.IN, idempotency_key__isnull=True,
        created_at__lt=now - datetime.timedelta(days=unattributed_retention_days()))
    removed = {"unattributed": _delete_in_batches(unattributed), "old": 0}
    days = retention_days()
    if days > 0:
        old = (IsoMessage.objects.filter(created_at__lt=now - datetime.timedelta(days=days))
               .exclude(outbox__state__in=OutboxMessage.BLOCKING))
        removed["old"] = _delete_in_batches(old)
    return removed

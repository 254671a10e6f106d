"""Celery tasks of the partner endpoint (imported by IllConfig.ready, so workers know them)."""

from __future__ import annotations

from celery import shared_task

PRUNE_TASK = "ill.prune_iso_traffic"


@shared_task(name=PRUNE_TASK, ignore_result=True)
def prune_iso_traffic() -> dict[str, int]:
    from ill.inbound.services import iso_traffic_prune

    return iso_traffic_prune()

"""Celery tasks for ISO 18626 delivery (imported by IllConfig.ready, so workers know them).

Both are idempotent: the outbox rows carry the state, so a task run twice, or again after
its worker died (acks_late), sends nothing twice that the partner already confirmed.
"""

from __future__ import annotations

from celery import shared_task

from ill.outbox.services import DELIVER_TASK, deliver_chain, sweep


@shared_task(name=DELIVER_TASK, acks_late=True, ignore_result=True)
def deliver_outbox(chain: str) -> int:
    return deliver_chain(chain)


@shared_task(name="ill.iso18626_sweep", acks_late=True, ignore_result=True)
def sweep_outbox() -> int:
    return sweep()

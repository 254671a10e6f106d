"""Queueing background work safely, and the letters' delivery tasks.

`enqueue` hands a task to Celery only after the surrounding transaction commits, so a worker
never looks for rows that are not there yet. Without a broker (the embedded default) Celery
runs the task eagerly, in-process, at that same moment. It is fire-and-forget: if the broker
is down at commit the task is lost. Work that must happen keeps a durable row written in the
transaction and swept by a periodic job instead, as letters (`kauko.letters.queue_letter`,
the tasks below) and ISO 18626 messages (`ill.outbox`) do.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from kauko.letters import DELIVER_LETTER_TASK, deliver_letter, sweep_letters

logger = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs) -> None:
    def _send():
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:  # The broker being down must not break the request that queued.
            logger.exception("Could not hand %s to the broker; it will not run.", task.name)

    transaction.on_commit(_send)


@shared_task(name=DELIVER_LETTER_TASK, acks_late=True, ignore_result=True)
def deliver_letter_task(letter_id: int) -> bool:
    return deliver_letter(letter_id)


@shared_task(name="kauko.sweep_letters", acks_late=True, ignore_result=True)
def sweep_letters_task() -> int:
    return sweep_letters()

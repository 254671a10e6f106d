"""Queueing background work safely.

`enqueue` hands a task to Celery only after the surrounding transaction commits, so a worker
never looks for rows that are not there yet. Without a broker (the embedded default) Celery
runs the task eagerly, in-process, at that same moment.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs) -> None:
    def _send():
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:  # The broker being down must not break the request that queued.
            logger.exception("Could not hand %s to the broker; a sweeper will retry it.",
                             task.name)

    transaction.on_commit(_send)

"""The Celery app.

Without CELERY_BROKER_URL the settings make tasks run eagerly in-process, so the embedded
default (`make run`) needs no broker; `kauko.tasks.enqueue` defers them until after commit.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kauko")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The Celery app. Queues: `default` (portal jobs, beat jobs) and `recognition` (GPU camera workers)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lfr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("recognition"))
app.autodiscover_tasks()

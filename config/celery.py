"""The Celery app. Queues: `default` (portal jobs, beat jobs: the control worker) and `recognition` (camera loops:
the camera workers, on GPU hosts or their own process pool in `lfr up`)."""

import logging
import os

# numpy's BLAS threads fight onnxruntime's for the cores: matching a probe against 2,500 references
# took 8-22 ms with them and 0.08 ms without (bench/results/pipeline.md). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from celery import Celery, Task, signals
from kombu import Queue

from audit.context import Channel, audit_context
from core.heartbeat import WorkerHeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class AuditedTask(Task):
    """Every task (beat's too) runs in an audit context (audit/context.py): channel "task", the task's id as the
    correlation id (a new one when the task is called directly, outside Celery)."""

    def __call__(self, *args, **kwargs):
        with audit_context(channel=Channel.TASK, correlation_id=self.request.id):
            return super().__call__(*args, **kwargs)


app = Celery("lfr", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("recognition"))
app.autodiscover_tasks()

# Without the first a worker running a camera loop dies when Redis restarts (config/celery_compat.py).
from config.celery_compat import consumer_step_close_patch, redis_channel_close_patch  # noqa: E402

redis_channel_close_patch()
consumer_step_close_patch()

# Beat jobs that run every few seconds: their "sent / received / succeeded" lines would drown the log.
FREQUENT_TASKS = {"recognition.tasks.cameras_supervise_task", "deployments.tasks.deployments_tick_task"}


class _DropFrequentTaskLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        text = record.getMessage()
        return not any(name in text for name in FREQUENT_TASKS)


@signals.after_setup_logger.connect
def _quieter_logs(logger, **kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(_DropFrequentTaskLines())

# Every worker process writes a heartbeat (queues, busy slots) that /healthz and the deployment page read.
app.steps["worker"].add(WorkerHeartbeatStep)

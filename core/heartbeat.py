"""Heartbeats in Redis: each Celery worker process says every WORKER_HEARTBEAT_SECONDS which queues it consumes
and how many of its pool slots are busy; the beat-driven window check records when it last ran.

Why a key with an expiry, written by a thread of the worker's main process, and not Celery's own
`inspect ping` or event heartbeats: a ping is a broadcast that waits out its whole timeout for replies (every
health probe would cost a second or more, and a GPU host's worker may run without gossip or events), while a
key (named in an index set) is one SMEMBERS + MGET from any host, answers "who consumes the recognition queue"
directly, and disappears by itself, as a camera lease does, when the process is killed (after 3 intervals, by
Redis's clock, so hosts' clocks need not agree). The main process keeps writing while every pool child is busy
with a camera loop, and reports how many slots are busy, so "up but full" is visible too.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass

from celery import bootsteps
from django.conf import settings

from core.redis_probe import monitoring_redis

logger = logging.getLogger(__name__)

WORKER_PREFIX = "lfr:heartbeat:worker:"
WORKER_INDEX = "lfr:heartbeat:workers"  # the names, so a reader need not SCAN the whole keyspace
JOB_PREFIX = "lfr:heartbeat:job:"
CONTROL_QUEUE = "default"
RECOGNITION_QUEUE = "recognition"
EXPIRY_INTERVALS = 3  # a heartbeat missed this many times in a row: the worker is gone


def heartbeat_expiry_seconds() -> float:
    return settings.WORKER_HEARTBEAT_SECONDS * EXPIRY_INTERVALS


@dataclass(frozen=True)
class WorkerHeartbeat:
    name: str
    queues: tuple[str, ...]
    pid: int
    slots: int
    busy: int
    at: float  # time.time() of the last beat

    def age(self, now: float | None = None) -> float:
        return max(0.0, (now or time.time()) - self.at)

    @property
    def is_control(self) -> bool:
        return CONTROL_QUEUE in self.queues

    @property
    def is_recognition(self) -> bool:
        return RECOGNITION_QUEUE in self.queues

    @property
    def full(self) -> bool:
        return self.slots > 0 and self.busy >= self.slots


def worker_heartbeat_write(*, client, name: str, queues: list[str], slots: int, busy: int) -> None:
    payload = {"name": name, "queues": sorted(queues), "pid": os.getpid(), "slots": slots, "busy": busy,
               "at": time.time()}
    pipe = client.pipeline(transaction=False)
    pipe.set(WORKER_PREFIX + name, json.dumps(payload), px=int(heartbeat_expiry_seconds() * 1000))
    pipe.sadd(WORKER_INDEX, name)
    pipe.execute()


def worker_heartbeat_clear(*, client, name: str) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.delete(WORKER_PREFIX + name)
    pipe.srem(WORKER_INDEX, name)
    pipe.execute()


def worker_heartbeats(*, client=None) -> list[WorkerHeartbeat]:
    """Every worker whose heartbeat has not expired, by name. Raises redis errors: the caller says "unknown"."""
    client = client or monitoring_redis()
    names = sorted(name.decode() for name in client.smembers(WORKER_INDEX))
    beats, gone = [], []
    for name, raw in zip(names, client.mget([WORKER_PREFIX + n for n in names]) if names else [], strict=True):
        if raw is None:  # expired (Redis's clock decides, not the hosts'): forget the name
            gone.append(name)
            continue
        data = json.loads(raw)
        beats.append(WorkerHeartbeat(name=data["name"], queues=tuple(data["queues"]), pid=int(data["pid"]),
                                     slots=int(data["slots"]), busy=int(data["busy"]), at=float(data["at"])))
    if gone:
        client.srem(WORKER_INDEX, *gone)
    return beats


def job_heartbeat_record(*, name: str) -> None:
    """A periodic job says it ran. Never fails the job: Redis being down is reported elsewhere."""
    try:
        monitoring_redis().set(JOB_PREFIX + name, repr(time.time()), ex=7 * 24 * 3600)
    except Exception:
        logger.warning("could not record the %s heartbeat", name, exc_info=True)


def job_last_run(*, name: str, client=None) -> float | None:
    value = (client or monitoring_redis()).get(JOB_PREFIX + name)
    return float(value) if value else None


WINDOW_CHECK_JOB = "deployments_tick"  # the beat job that opens and closes deployment windows


@dataclass(frozen=True)
class WorkersSeen:
    """What the heartbeats say now, read once for a page or a health probe."""

    reachable: bool  # False: Redis did not answer, so nothing is known
    error: str = ""
    heartbeats: tuple[WorkerHeartbeat, ...] = ()
    window_check_at: float | None = None  # time.time() the window check last ran

    @property
    def control(self) -> list[WorkerHeartbeat]:
        return [b for b in self.heartbeats if b.is_control]

    @property
    def recognition(self) -> list[WorkerHeartbeat]:
        return [b for b in self.heartbeats if b.is_recognition]


def workers_seen(*, client=None) -> WorkersSeen:
    try:
        client = client or monitoring_redis()
        return WorkersSeen(reachable=True, heartbeats=tuple(worker_heartbeats(client=client)),
                           window_check_at=job_last_run(name=WINDOW_CHECK_JOB, client=client))
    except Exception as exc:
        return WorkersSeen(reachable=False, error=f"{type(exc).__name__}: {exc}")


class _Beater:
    def __init__(self, worker) -> None:
        self.name = worker.hostname
        # The pool's limit: the solo pool runs one task whatever the concurrency setting says.
        self.slots = int(getattr(getattr(worker, "pool", None), "limit", None) or getattr(worker, "concurrency", 0) or 0)
        self.queues = sorted(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)
        self.stop = threading.Event()
        self.client = monitoring_redis()
        self.thread = threading.Thread(target=self._run, name="lfr-heartbeat", daemon=True)

    def beat(self) -> None:
        from celery.worker.state import active_requests

        worker_heartbeat_write(client=self.client, name=self.name, queues=self.queues, slots=self.slots,
                               busy=len(active_requests))

    def _run(self) -> None:
        failing = False
        while not self.stop.is_set():
            try:
                self.beat()
                if failing:
                    logger.info("heartbeat of %s written again", self.name)
                failing = False
            except Exception as exc:
                if not failing:
                    logger.warning("heartbeat of %s not written: %s", self.name, exc)
                failing = True
            self.stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """Registered on the worker blueprint (config/celery.py): runs in the worker's main process."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.beater: _Beater | None = None

    def start(self, worker) -> None:
        self.beater = _Beater(worker)
        self.beater.thread.start()

    def stop(self, worker) -> None:
        if self.beater is None:
            return
        self.beater.stop.set()
        self.beater.thread.join(5)
        try:  # a clean shutdown disappears at once; a killed worker after the expiry
            worker_heartbeat_clear(client=self.beater.client, name=self.beater.name)
        except Exception:
            logger.warning("could not clear the heartbeat of %s", self.beater.name)
        self.beater = None

    terminate = stop  # a cold shutdown (second Ctrl-C) calls this instead

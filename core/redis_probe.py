"""A Redis client for health checks, heartbeats and metrics: it gives up quickly instead of waiting on a stuck
server, and does not retry (a probe that retries three times answers three timeouts late)."""

from __future__ import annotations

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry


def monitoring_redis(*, timeout: float | None = None) -> redis.Redis:
    seconds = settings.HEALTH_TIMEOUT_SECONDS if timeout is None else timeout
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=seconds, socket_timeout=seconds,
                                retry=Retry(NoBackoff(), 0), retry_on_timeout=False)


CELERY_QUEUES = ("default", "recognition")
_PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport keeps priorities 3, 6, 9 in lists named queue + sep + n


def celery_queue_lengths(*, client, queues=CELERY_QUEUES) -> dict[str, int]:
    """Messages waiting in each Celery queue (every priority list of it)."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in (queue, *(f"{queue}{_PRIORITY_SEPARATOR}{p}" for p in (3, 6, 9))):
            pipe.llen(key)
    lengths = pipe.execute()
    return {queue: sum(lengths[i * 4:(i + 1) * 4]) for i, queue in enumerate(queues)}

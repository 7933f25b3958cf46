"""Camera leases in Redis: each camera is processed by exactly one worker at a time.

A worker holds a lease with a short expiry and renews it while it reads frames; if the worker dies,
the lease lapses and the supervisor hands the camera to another worker.

Redis itself may be away for a while (a restart). A lease that lapsed meanwhile and that nobody else took
is taken back at the next renewal: the camera was never processed by anyone else. Only a lease another
worker holds is lost.
"""

from __future__ import annotations

import functools
import uuid

import redis
from django.conf import settings

from core.redis_probe import monitoring_redis

LEASE_PREFIX = "lfr:camera-lease"
# A camera loop asks Redis once a second; a Redis that does not answer must not hold it up for longer.
REDIS_TIMEOUT_SECONDS = 2.0

_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if not holder then
  redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
  return 2
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


@functools.cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


def lease_key(*, deployment_id: int, camera_id: int) -> str:
    return f"{LEASE_PREFIX}:{deployment_id}:{camera_id}"


def new_holder_token(worker_name: str) -> str:
    return f"{worker_name}:{uuid.uuid4().hex[:12]}"


def camera_lease_acquire(*, deployment_id: int, camera_id: int, holder: str, ttl_ms: int) -> bool:
    return bool(_client().set(lease_key(deployment_id=deployment_id, camera_id=camera_id), holder, nx=True, px=ttl_ms))


def camera_lease_renew(*, deployment_id: int, camera_id: int, holder: str, ttl_ms: int) -> bool:
    """True while `holder` has the camera: renewed, or taken back after lapsing unheld; False once another
    worker holds it. Raises redis.RedisError when Redis cannot be reached."""
    return bool(_client().eval(_RENEW, 1, lease_key(deployment_id=deployment_id, camera_id=camera_id), holder, ttl_ms))


def camera_lease_release(*, deployment_id: int, camera_id: int, holder: str) -> None:
    _client().eval(_RELEASE, 1, lease_key(deployment_id=deployment_id, camera_id=camera_id), holder)


def camera_lease_holder(*, deployment_id: int, camera_id: int) -> str | None:
    value = _client().get(lease_key(deployment_id=deployment_id, camera_id=camera_id))
    return value.decode() if value else None


def camera_lease_holders(*, deployment_id: int, camera_ids: list[int], client=None) -> dict[int, str | None]:
    """Who holds each camera's lease, in one round trip (pages and health probes: a client that gives up fast)."""
    if not camera_ids:
        return {}

    values = (client or monitoring_redis()).mget(
        [lease_key(deployment_id=deployment_id, camera_id=camera_id) for camera_id in camera_ids])
    return {camera_id: value.decode() if value else None for camera_id, value in zip(camera_ids, values, strict=True)}

"""Camera leases in Redis: each camera is processed by exactly one worker at a time.

A worker holds a lease with a short expiry and renews it while it reads frames; if the worker dies,
the lease lapses and the supervisor hands the camera to another worker.
"""

from __future__ import annotations

import functools
import uuid

import redis
from django.conf import settings

LEASE_PREFIX = "lfr:camera-lease"

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
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
    return redis.Redis.from_url(settings.REDIS_URL)


def lease_key(*, deployment_id: int, camera_id: int) -> str:
    return f"{LEASE_PREFIX}:{deployment_id}:{camera_id}"


def new_holder_token(worker_name: str) -> str:
    return f"{worker_name}:{uuid.uuid4().hex[:12]}"


def camera_lease_acquire(*, deployment_id: int, camera_id: int, holder: str, ttl_ms: int) -> bool:
    return bool(_client().set(lease_key(deployment_id=deployment_id, camera_id=camera_id), holder, nx=True, px=ttl_ms))


def camera_lease_renew(*, deployment_id: int, camera_id: int, holder: str, ttl_ms: int) -> bool:
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
    from config.monitoring_redis import monitoring_redis

    values = (client or monitoring_redis()).mget(
        [lease_key(deployment_id=deployment_id, camera_id=camera_id) for camera_id in camera_ids])
    return {camera_id: value.decode() if value else None for camera_id, value in zip(camera_ids, values)}

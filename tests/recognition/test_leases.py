"""Camera leases (real Redis): what a renewal means after Redis was away."""

import redis
from django.conf import settings

from recognition.leases import (
    camera_lease_acquire,
    camera_lease_holder,
    camera_lease_release,
    camera_lease_renew,
    lease_key,
)

DEPLOYMENT, CAMERA = 987_001, 1


def _clear():
    redis.Redis.from_url(settings.REDIS_URL).delete(lease_key(deployment_id=DEPLOYMENT, camera_id=CAMERA))


def test_a_lease_that_lapsed_while_nobody_took_it_is_taken_back_at_the_next_renewal():
    _clear()
    assert camera_lease_acquire(deployment_id=DEPLOYMENT, camera_id=CAMERA, holder="worker-a", ttl_ms=15_000)
    _clear()  # as after a Redis restart that lost it, or an outage longer than the lease

    assert camera_lease_renew(deployment_id=DEPLOYMENT, camera_id=CAMERA, holder="worker-a", ttl_ms=15_000)
    assert camera_lease_holder(deployment_id=DEPLOYMENT, camera_id=CAMERA) == "worker-a"
    ttl = redis.Redis.from_url(settings.REDIS_URL).pttl(lease_key(deployment_id=DEPLOYMENT, camera_id=CAMERA))
    assert 0 < ttl <= 15_000
    camera_lease_release(deployment_id=DEPLOYMENT, camera_id=CAMERA, holder="worker-a")


def test_a_lease_another_worker_took_is_lost():
    _clear()
    assert camera_lease_acquire(deployment_id=DEPLOYMENT, camera_id=CAMERA, holder="worker-b", ttl_ms=15_000)

    assert not camera_lease_renew(deployment_id=DEPLOYMENT, camera_id=CAMERA, holder="worker-a", ttl_ms=15_000)
    assert camera_lease_holder(deployment_id=DEPLOYMENT, camera_id=CAMERA) == "worker-b"
    _clear()

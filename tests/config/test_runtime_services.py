"""The real parts answer: Redis channel layer, a Celery worker process, pgvector."""

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from audit.services import audit_record
from audit.tasks import audit_chain_verify_task
from config.celery import app


def test_channel_layer_round_trip_through_redis(settings):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel()
        await layer.group_add("deployment-1", channel)
        await layer.group_send("deployment-1", {"type": "alert.created", "alert_id": 5})
        received = await layer.receive(channel)
        await layer.group_discard("deployment-1", channel)
        return received

    assert async_to_sync(round_trip)() == {"type": "alert.created", "alert_id": 5}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_celery_task_runs_in_a_real_worker_process(celery_worker_process, detective):
    assert app.control.ping(destination=[celery_worker_process], timeout=2.0)
    audit_record(actor=detective, action="a")
    audit_record(actor=detective, action="b")

    result = audit_chain_verify_task.delay().get(timeout=60)

    # The worker read the committed events from the same database through its own connection.
    assert result == {"ok": True, "checked": 2, "head_sequence": 2, "broken_sequence": None, "reason": ""}


@pytest.mark.django_db
def test_pgvector_column_round_trip_and_nearest_neighbour():
    from pgvector.psycopg import register_vector

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(50, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    connection.ensure_connection()
    register_vector(connection.connection)
    with connection.connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE probe_vectors (id int PRIMARY KEY, embedding vector(512))")
        cursor.execute("CREATE INDEX ON probe_vectors USING hnsw (embedding vector_cosine_ops)")
        for i, v in enumerate(vectors):
            cursor.execute("INSERT INTO probe_vectors VALUES (%s, %s)", [i, v])
        query = vectors[17] + 0.01 * rng.normal(size=512).astype(np.float32)
        cursor.execute("SELECT id, embedding, 1 - (embedding <=> %s) FROM probe_vectors "
                       "ORDER BY embedding <=> %s LIMIT 1", [query, query])
        nearest_id, stored, similarity = cursor.fetchone()
    assert nearest_id == 17
    np.testing.assert_allclose(stored.to_numpy(), vectors[17], rtol=1e-6)
    assert similarity > 0.95  # the query is the vector plus noise of norm ~0.23


def test_a_queued_task_survives_the_embedded_redis_being_killed(private_redis):
    """`lfr up` restarts a redis-server that died: what was queued a moment before it died is still there."""
    import os
    import signal
    import time

    import redis

    client = redis.Redis.from_url(private_redis.url)
    client.lpush("default", b"an enrolment task")
    time.sleep(1.5)  # the append-only file is synced every second; the fault comes after that
    os.kill(private_redis.process.pid, signal.SIGKILL)
    private_redis.process.wait(10)
    private_redis.start()
    assert redis.Redis.from_url(private_redis.url).lrange("default", 0, -1) == [b"an enrolment task"]

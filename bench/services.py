"""A fresh embedded PostgreSQL + Redis for one benchmark run, wired into the environment Django reads."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path


def fresh_services(var: Path, **environment: str):
    """Start both servers with empty data under `var`; returns (postgres, redis) for the caller to stop."""
    from config.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    postgres = EmbeddedPostgres(data_dir=var / "pgdata", port=free_port(), log_file=var / "postgres.log")
    redis = EmbeddedRedis(data_dir=var / "redis", port=free_port(), log_file=var / "redis.log")
    postgres.start()
    redis.start()
    # A scratch database: the benchmarks COPY into and ANALYZE every table, so they connect as the superuser
    # (as the test run does), not as the runtime role the portal uses.
    os.environ.update(DATABASE_URL=postgres.superuser_url, REDIS_URL=redis.url, PROTECTED_MEDIA_ROOT=str(var / "protected"),
                      DJANGO_SETTINGS_MODULE="config.settings", **environment)
    return postgres, redis


@contextmanager
def django_on_fresh_services(var: Path, **environment: str):
    """fresh_services, then django.setup(); yields (postgres, redis) and stops both on the way out."""
    postgres, redis = fresh_services(var, **environment)
    try:
        import django

        django.setup()
        yield postgres, redis
    finally:
        try:
            from django.db import connections

            connections.close_all()  # PostgreSQL waits for open sessions before it stops
        finally:
            redis.stop()
            postgres.stop()

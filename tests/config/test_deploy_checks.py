import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "LFR_ENV": "production",
    "SECRET_KEY": "x7#kq2!v9Lz$wP4mN8rT1bY6cH3jF0sD5gA2eU7iO9pQ4lK8zX1",
    "ALLOWED_HOSTS": "lfr.force.police.uk",
    "CSRF_TRUSTED_ORIGINS": "https://lfr.force.police.uk",
    "DATABASE_URL": "postgres://lfr@db.internal:5432/lfr",
    "REDIS_URL": "redis://:a-long-redis-password@redis.internal:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_warns_of_a_redis_without_a_password():
    result = _manage("check", "--deploy", env={**PRODUCTION_ENV, "REDIS_URL": "redis://redis.internal:6379/0"})
    assert "config.W001" in result.stderr + result.stdout and "REDIS_URL has no password" in result.stderr + result.stdout


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env={**env, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when LFR_ENV=production" in result.stderr


@pytest.mark.slow
def test_development_defaults_fail_the_deploy_check():
    """The check is meaningful: insecure development cookies are reported."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     env={"LFR_ENV": "development", "SECURE_COOKIES": "false"})
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr


@pytest.mark.slow
def test_check_deploy_is_clean_with_a_monitoring_token():
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     env={**PRODUCTION_ENV, "MONITORING_TOKEN": "k" * 43})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_check_deploy_warns_of_a_short_monitoring_token():
    result = _manage("check", "--deploy", env={**PRODUCTION_ENV, "MONITORING_TOKEN": "short"})
    assert "config.W003" in result.stderr + result.stdout

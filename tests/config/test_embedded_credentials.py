"""The embedded servers require passwords, generated under var/credentials/ (mode 0600); a data folder from
before (initdb --auth=trust, tables owned by the superuser) is brought up to the same state."""

import os
import subprocess
import time
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest
import redis

from config.embedded import (
    OWNER_ROLE,
    RUNTIME_ROLE,
    EmbeddedPostgres,
    EmbeddedRedis,
    free_port,
    postgres_bin_dir,
    secret,
)


def test_secrets_are_generated_once_and_private(tmp_path):
    first = secret(tmp_path / "credentials", "x.password")
    assert secret(tmp_path / "credentials", "x.password") == first and len(first) == 48
    assert (tmp_path / "credentials" / "x.password").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "credentials").stat().st_mode & 0o777 == 0o700


def test_the_test_runs_postgres_refuses_a_login_without_the_password():
    url = urlsplit(os.environ["DATABASE_URL"])
    if not url.password:
        pytest.skip("an external database without a password in DATABASE_URL")
    for password in (None, "postgres"):
        with pytest.raises(psycopg.OperationalError, match="no password supplied|password authentication failed"):
            psycopg.connect(host=url.hostname, port=url.port, user=url.username, password=password,
                            dbname="postgres", connect_timeout=5)


def test_the_test_runs_redis_refuses_a_client_without_the_password():
    url = urlsplit(os.environ["REDIS_URL"])
    if not url.password:
        pytest.skip("an external Redis without a password in REDIS_URL")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host=url.hostname, port=url.port).ping()
    assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()


def test_the_redis_password_is_not_on_its_command_line(tmp_path):
    server = EmbeddedRedis(data_dir=tmp_path / "redis", port=free_port())
    server.start()
    try:
        assert server.password not in " ".join(psutil.Process(server.process.pid).cmdline())
        assert (tmp_path / "redis" / "redis.conf").stat().st_mode & 0o777 == 0o600
    finally:
        server.stop()


@pytest.mark.slow
def test_a_trust_data_folder_from_before_is_given_passwords_and_an_owner(tmp_path):
    server = EmbeddedPostgres(data_dir=tmp_path / "var" / "pgdata", port=free_port())
    _old_trust_cluster(server)
    server.start()
    try:
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="lfr", connect_timeout=5)
        with psycopg.connect(server.owner_url) as conn:
            owners = conn.execute(
                "SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'lfr'), "
                "(SELECT tableowner FROM pg_tables WHERE tablename = 'old_table'), "
                "(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'old_function')").fetchone()
            assert owners == (OWNER_ROLE, OWNER_ROLE, OWNER_ROLE)
            conn.execute("INSERT INTO old_table (note) VALUES ('the owner can still write')")
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == RUNTIME_ROLE
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM old_table")  # nothing is granted until migrate grants it
    finally:
        server.stop()
    server.start()  # a second start changes nothing
    server.stop()


def _old_trust_cluster(server: EmbeddedPostgres) -> None:
    """What `lfr up` made before passwords: initdb --auth=trust, the database and a table owned by postgres."""
    data = server.data_dir
    data.mkdir(parents=True)
    run_as = server._run_as()
    if run_as:
        from config.embedded import _make_traversable

        _make_traversable(data)
        os.chown(data, run_as["user"], run_as["group"])
    data.chmod(0o700)
    subprocess.run([str(postgres_bin_dir() / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--no-locale", "--no-instructions"], check=True, capture_output=True, **run_as)
    process = subprocess.Popen(server.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               **server.popen_kwargs())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                                       autocommit=True, connect_timeout=2)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            conn.execute("CREATE DATABASE lfr")
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="lfr", autocommit=True) as db:
            db.execute("CREATE TABLE old_table (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
            db.execute("CREATE FUNCTION old_function() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ "
                       "LANGUAGE plpgsql")
    finally:
        process.send_signal(2)
        process.wait(30)

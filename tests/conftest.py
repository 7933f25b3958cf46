"""Shared fixtures: one user per role, plus an outsider with no role."""

from __future__ import annotations

import itertools
import os

import pytest

from accounts.roles import Role

# Fixture modules shared by several folders: their fixtures are available to every test without an import
# (importing a fixture into a test module shadows it, ruff F811). Their plain helpers are imported as usual.
pytest_plugins = ["tests.worker_processes", "tests.monitoring_helpers"]

TEST_PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count()


def _flush_holding_every_lock(self, sql_list):
    """Django's test flush, made unable to deadlock with a server or worker process still in a transaction.

    The flush is one TRUNCATE of every table, which takes its ACCESS EXCLUSIVE locks one table at a time. A
    request the uvicorn test server is still finishing (or a Celery task) may hold a lock on a later table
    while it waits for one the TRUNCATE already holds: a deadlock. Here every lock is taken first with NOWAIT,
    all or none (a failed attempt rolls back to its savepoint, releasing what it got), so the flush never
    waits while holding a lock. Once it holds them all, other transactions wait for the flush, not the reverse.
    Superuser only: triggers are off for the flush, so the audit tables' append-only triggers let it empty them.
    """
    import time

    from django.db import OperationalError, transaction

    connection = self.connection
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    lock = (f"LOCK TABLE {', '.join(self.quote_name(table) for table in tables)} "
            "IN ACCESS EXCLUSIVE MODE NOWAIT")
    deadline = time.monotonic() + 120
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        while True:
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(lock)
                break
            except OperationalError:  # 55P03 lock_not_available: someone is still in a transaction
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql in sql_list:
            cursor.execute(sql)


@pytest.fixture(autouse=True, scope="session")
def _flush_without_deadlock():
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush
    DatabaseOperations.execute_sql_flush = _flush_holding_every_lock
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True, scope="session")
def _test_database_dropped_at_the_end(django_db_setup, django_db_blocker):
    """Connections left open in the test database (a service run in a helper thread keeps its own, a worker's
    pool child may outlive its parent) would stop pytest-django dropping it at the end of the run."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sign_in_limits_cleared():
    """Sign-in limits live in Redis, which outlives each test's database transaction."""
    from accounts.login_throttle import throttle_clear

    throttle_clear()


@pytest.fixture
def make_user(db, django_user_model):
    from django.contrib.auth.models import Group

    def make(*roles: Role, username: str | None = None, **extra):
        user = django_user_model.objects.create_user(
            username=username or f"user{next(_counter)}", password=TEST_PASSWORD, **extra)
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        return user

    return make


@pytest.fixture
def detective(make_user):
    return make_user(Role.DETECTIVE, username="det_smith", first_name="Sam", last_name="Smith")


@pytest.fixture
def commander(make_user):
    return make_user(Role.AUTHORISING_OFFICER, username="supt_jones", first_name="Jo", last_name="Jones")


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, username="pc_brown")


@pytest.fixture
def oversight(make_user):
    return make_user(Role.OVERSIGHT, username="commissioner")


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMIN, username="sysadmin")


@pytest.fixture
def outsider(make_user):
    return make_user(username="no_role")


def mfa_test_device(user):
    """The user's confirmed TOTP device, created when missing (as if they had enrolled)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)


def totp_code(device) -> str:
    """The code the user's authenticator app shows now (the next one if this one was already used)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:  # used in this 30 s step: the next step's code is within the tolerance
        totp.time += device.step * (device.last_t - totp.t() + 1)
    return f"{totp.token():0{device.digits}d}"


def mfa_verify_session(session, user) -> None:
    """Mark a signed-in session as having given a TOTP code, for users whose role needs one."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.selectors import mfa_required

    if mfa_required(user=user):
        session[DEVICE_ID_SESSION_KEY] = mfa_test_device(user).persistent_id
        session.save()


@pytest.fixture
def api_as():
    """A DRF APIClient signed in (by session, MFA verified where the role needs it) as the given user."""
    from rest_framework.test import APIClient

    def login(user):
        api = APIClient()
        api.force_login(user)
        mfa_verify_session(api.session, user)
        return api

    return login


@pytest.fixture
def client_as(client):
    """The test client signed in (MFA verified where the role needs it) as the given user."""

    def login(user):
        client.force_login(user)
        mfa_verify_session(client.session, user)
        return client

    return login


def subprocess_database_url() -> str:
    """DATABASE_URL for a server or worker process a test starts: the test database, as the runtime role when
    the test run has one (embedded servers: `lfr_app`, with only SELECT and INSERT on the audit tables), else
    as this process's own user. Call with database access unblocked."""
    from urllib.parse import quote, urlsplit

    from django.db import connection

    db = connection.settings_dict
    user, password = db["USER"], db["PASSWORD"] or ""
    runtime = os.environ.get("LFR_TEST_RUNTIME_DATABASE_URL")
    if runtime:
        parts = urlsplit(runtime)
        user, password = parts.username, parts.password or ""
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}" if password else quote(user, safe="")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process (prefork pool) on both queues, using the test database."""
    import os
    import subprocess
    import sys
    import time

    from config.celery import app

    with django_db_blocker.unblock():
        database_url = subprocess_database_url()
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    name = f"pytest-{os.getpid()}@%h"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-l", "WARNING",
         "--concurrency", "1", "-n", name, "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    hostname = name.replace("%h", __import__("socket").gethostname())
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited: {process.stdout.read().decode()}")
        replies = app.control.ping(destination=[hostname], timeout=1.0)
        if replies:
            break
    else:
        process.kill()
        raise RuntimeError("celery worker did not answer a ping within 60 s")
    yield hostname
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(5)


@pytest.fixture
def live_deployment(detective, commander, officer):
    """A live deployment with two enrolled subjects (packaged photos) and `officer` assigned."""
    from deployments.services import deployment_authorise, deployments_tick
    from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera

    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    camera = video_camera(detective)
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    deployments_tick(now=deployment.starts_at)
    deployment.refresh_from_db()
    return deployment


@pytest.fixture
def raise_alert(live_deployment, django_capture_on_commit_callbacks):
    """Raise an alert on the live deployment as the camera worker would (its after-commit steps run too: the
    crop gets its final name, the broadcast goes out)."""
    import datetime as dt

    from django.utils import timezone

    from alerts.services import alert_create
    from deployments.models import SnapshotReference
    from tests.samples import encode_jpeg, person_image

    def raise_(index: int = 0, score: float = 0.71):
        reference = SnapshotReference.objects.filter(snapshot=live_deployment.snapshot).order_by("subject_id")[index]
        with django_capture_on_commit_callbacks(execute=True):
            return alert_create(deployment_id=live_deployment.pk, camera_id=live_deployment.cameras.first().pk,
                                snapshot_reference=reference, score=score, threshold=live_deployment.threshold,
                                model_id=live_deployment.snapshot.model_id, track_id=index + 1,
                                frame_time=timezone.now() - dt.timedelta(milliseconds=200),
                                probe_jpeg=encode_jpeg(person_image(index)))

    return raise_


@pytest.fixture
def test_subject_deployment(detective, commander, officer):
    """A live deployment (live for 10 minutes) whose watchlist holds one real subject and one consenting test
    subject, both enrolled from packaged photos, with `officer` assigned. The test subject is `.test_subject`."""
    import datetime as dt

    from django.utils import timezone

    from deployments.models import DeploymentTransition
    from deployments.services import deployment_authorise, deployments_tick
    from tests.factories import (
        approved_watchlist,
        enrolled_subject,
        enrolled_test_subject,
        submitted_deployment,
        video_camera,
    )

    real = enrolled_subject(detective, 0)
    tester = enrolled_test_subject(detective, 1)
    watchlist = approved_watchlist(detective, commander, [real, tester])
    deployment = submitted_deployment(detective, watchlist, [video_camera(detective)])
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    deployments_tick(now=deployment.starts_at)
    # The services stamp the start with the window's start (in 10 minutes); move it to 10 minutes ago.
    started = timezone.now() - dt.timedelta(minutes=10)
    type(deployment).objects.filter(pk=deployment.pk).update(went_live_at=started)
    DeploymentTransition.objects.filter(deployment=deployment, to_state="live").update(at=started)
    deployment.refresh_from_db()
    deployment.test_subject = tester
    deployment.real_subject = real
    return deployment


@pytest.fixture
def raise_subject_alert(django_capture_on_commit_callbacks):
    """raise_subject_alert(deployment, subject, camera=None): an alert of that subject, as the camera worker would."""
    import datetime as dt

    from django.utils import timezone

    from alerts.services import alert_create
    from deployments.models import SnapshotReference
    from tests.samples import encode_jpeg, person_image

    def raise_(deployment, subject, camera=None, track_id: int = 1):
        reference = SnapshotReference.objects.filter(snapshot=deployment.snapshot, subject_id=subject.pk).first()
        with django_capture_on_commit_callbacks(execute=True):
            return alert_create(deployment_id=deployment.pk, camera_id=(camera or deployment.cameras.first()).pk,
                                snapshot_reference=reference, score=0.72, threshold=deployment.threshold,
                                model_id=deployment.snapshot.model_id, track_id=track_id,
                                frame_time=timezone.now() - dt.timedelta(milliseconds=200),
                                probe_jpeg=encode_jpeg(person_image(1)))

    return raise_


@pytest.fixture
def no_packaged_walkby_calibration(monkeypatch):
    """As if the software shipped no walk-by calibration: pages fall back to the figure per face image."""
    monkeypatch.setattr("recognition.evaluation.walkby_calibration.packaged_walkby_calibration",
                        lambda model_id, device: None)

"""The audit context (audit/context.py): set once per HTTP request, websocket message, task and command, and
read by audit_record; its channel and correlation id are stored on each event and covered by the hash."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.chain import HASHED_FIELDS, canonical_json, event_hash
from audit.context import EMPTY, Channel, audit_context, audit_context_changed, current_audit_context
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_record, event_fields
from tests.conftest import TEST_PASSWORD

NEW_ID = re.compile(r"[0-9a-f]{32}")


def _login(client, user, **headers):
    return client.post(reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}, **headers)


# --- the context itself ---------------------------------------------------------------------------

def test_outside_every_context_nothing_is_known():
    assert current_audit_context() == EMPTY
    assert (EMPTY.client_ip, EMPTY.channel, EMPTY.correlation_id) == (None, None, "")


def test_a_context_is_current_inside_its_block_only():
    with audit_context(channel=Channel.TASK, correlation_id="job-1") as outer:
        assert current_audit_context() is outer
        with audit_context_changed(client_ip="192.0.2.1") as inner:
            assert (inner.client_ip, inner.channel, inner.correlation_id) == ("192.0.2.1", Channel.TASK, "job-1")
        assert current_audit_context() is outer
    assert current_audit_context() == EMPTY


def test_a_context_without_a_correlation_id_gets_a_new_one():
    with audit_context(channel="command") as context:
        assert context.channel is Channel.COMMAND and NEW_ID.fullmatch(context.correlation_id)


# --- HTTP: the middleware -------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_page_request_is_recorded_with_its_address_channel_and_request_id(client, detective):
    response = _login(client, detective, REMOTE_ADDR="192.0.2.50", HTTP_X_REQUEST_ID="trace-0042.a:b_c")
    assert response.status_code == 302
    assert response["X-Request-ID"] == "trace-0042.a:b_c"
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.client_ip, event.channel, event.correlation_id) == ("192.0.2.50", "web", "trace-0042.a:b_c")


@pytest.mark.django_db
def test_an_api_request_is_recorded_in_the_api_channel(api_as, detective):
    response = api_as(detective).post("/api/watchlists/", {"name": "Op Context", "purpose": "Robbery series"},
                                      format="json", REMOTE_ADDR="192.0.2.51", HTTP_X_REQUEST_ID="api-call-7")
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="watchlist.created")
    assert (event.client_ip, event.channel, event.correlation_id) == ("192.0.2.51", "api", "api-call-7")
    assert response["X-Request-ID"] == "api-call-7"


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "a" * 65, "two words", "-leading-dash", "é"])
def test_a_hostile_request_id_is_replaced_by_a_new_one(client, detective, hostile):
    response = _login(client, detective, HTTP_X_REQUEST_ID=hostile)
    given = response["X-Request-ID"]
    assert given != hostile and NEW_ID.fullmatch(given)
    assert AuditEvent.objects.get(action="auth.login").correlation_id == given


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_each_request_its_own(client):
    first, second = client.get(reverse("accounts:login")), client.get(reverse("accounts:login"))
    assert NEW_ID.fullmatch(first["X-Request-ID"]) and NEW_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert current_audit_context() == EMPTY  # nothing leaks out of the request


@pytest.mark.django_db
def test_the_address_follows_the_trusted_proxy_rules(client, detective, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    _login(client, detective, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert AuditEvent.objects.get(action="auth.login").client_ip == "203.0.113.9"


# --- tasks and commands ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_task_records_the_task_channel_and_its_id(detective):
    from accounts.services import login_failures_add
    from accounts.tasks import login_failures_audit_task

    login_failures_add(username=detective.username, address="198.51.100.7",
                       at=timezone.now() - dt.timedelta(minutes=5))
    result = login_failures_audit_task.apply()
    assert result.get() == 1
    event = AuditEvent.objects.get(action="auth.login_failed")
    # the channel and id of the task, the address of the sign-ins it counted
    assert (event.channel, event.correlation_id, event.client_ip) == ("task", result.id, "198.51.100.7")


@pytest.mark.django_db
def test_a_task_called_directly_still_gets_a_correlation_id(detective):
    from accounts.services import login_failures_add
    from accounts.tasks import login_failures_audit_task

    login_failures_add(username=detective.username, address="", at=timezone.now() - dt.timedelta(minutes=5))
    assert login_failures_audit_task() == 1
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.channel == "task" and NEW_ID.fullmatch(event.correlation_id) and event.client_ip is None


@pytest.mark.django_db
def test_a_management_command_records_the_command_channel(detective, capsys):
    from tests.conftest import mfa_test_device

    mfa_test_device(detective)
    call_command("mfa_code", detective.username)
    event = AuditEvent.objects.get(action="mfa.code_shown")
    assert event.channel == "command" and NEW_ID.fullmatch(event.correlation_id) and event.client_ip is None


# --- websockets -----------------------------------------------------------------------------------

@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_websocket_message_is_handled_in_the_socket_channel(monkeypatch):
    from channels.testing import WebsocketCommunicator

    from alerts.consumers import DeploymentAlertsConsumer
    from config.asgi import application

    seen = []

    async def connect(self):
        seen.append(current_audit_context())
        await self.close(code=4403)

    async def disconnect(self, code):
        seen.append(current_audit_context())

    monkeypatch.setattr(DeploymentAlertsConsumer, "connect", connect)
    monkeypatch.setattr(DeploymentAlertsConsumer, "disconnect", disconnect)
    socket = WebsocketCommunicator(application, "/ws/deployments/1/alerts/", headers=[(b"origin", b"http://localhost")])
    socket.scope["client"] = ("192.0.2.60", 50000)
    connected, _ = await socket.connect(timeout=5)
    assert not connected
    await socket.wait(timeout=1)
    connect_context = seen[0]
    assert connect_context.channel is Channel.SOCKET and connect_context.client_ip == "192.0.2.60"
    assert NEW_ID.fullmatch(connect_context.correlation_id)
    # one correlation id for every message of the connection
    assert all(context.correlation_id == connect_context.correlation_id for context in seen)


# --- the stored fields and the hash ---------------------------------------------------------------

@pytest.mark.django_db
def test_an_event_outside_any_context_hashes_as_events_did_before(detective):
    event = audit_record(actor=detective, action="subject.viewed", target=("watchlists.subject", 1))
    assert (event.channel, event.correlation_id, event.client_ip) == ("", "", None)
    fields = event_fields(event)
    # the hash of the original field list alone: events written before audit/0008 keep theirs
    old_style = {name: fields[name] for name in HASHED_FIELDS}
    import hashlib

    assert event.hash == hashlib.sha256(canonical_json(old_style).encode()).hexdigest()
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_channel_and_correlation_id_are_covered_by_the_hash(detective):
    with audit_context(channel=Channel.API, client_ip="192.0.2.9", correlation_id="req-9"):
        event = audit_record(actor=detective, action="subject.viewed")
    fields = event_fields(event)
    assert event.hash == event_hash(fields)
    assert event.hash != event_hash(fields | {"channel": ""})
    assert event.hash != event_hash(fields | {"correlation_id": "req-10"})
    assert audit_chain_verify().ok


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers do not fire
        cursor.execute(sql, params)


@pytest.mark.django_db
@pytest.mark.parametrize(("column", "value"), [("channel", "web"), ("correlation_id", "forged"),
                                               ("channel", ""), ("correlation_id", "")])
def test_changing_the_channel_or_correlation_id_is_detected(detective, column, value):
    audit_record(actor=detective, action="subject.viewed")  # an old-style event: nothing set
    with audit_context(channel=Channel.API, correlation_id="req-1"):
        audit_record(actor=detective, action="subject.viewed")
    sequence = 1 if value else 2  # setting one on the old event, or emptying one on the new
    _tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s", [value, sequence])
    report = audit_chain_verify()
    assert not report.ok and report.broken_sequence == sequence and "altered" in report.reason


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_task_on_a_real_worker_records_the_task_channel_and_its_id(celery_worker_process, detective):
    import time

    from accounts.services import login_failures_add
    from accounts.tasks import login_failures_audit_task

    login_failures_add(username=detective.username, address="198.51.100.8",
                       at=timezone.now() - dt.timedelta(minutes=5))
    sent = login_failures_audit_task.apply_async(queue="default")
    deadline = time.monotonic() + 30
    while not (event := AuditEvent.objects.filter(action="auth.login_failed").first()):
        assert time.monotonic() < deadline, "the worker did not audit the failures within 30 s"
        time.sleep(0.2)
    assert (event.channel, event.correlation_id, event.client_ip) == ("task", sent.id, "198.51.100.8")

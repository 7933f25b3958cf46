"""Sign-in limits, in Redis, checked before a password is hashed (docs/accounts.md "Sign-in limits").

- Per client address (`client_ip`): a token bucket of `LOGIN_ADDRESS_BURST` attempts refilled at
  `LOGIN_ADDRESS_PER_MINUTE`. Every attempt takes a token; a successful sign-in gives it back, so a
  station's shared address is drained by wrong passwords only.
- Per account: after `LOGIN_FAILURE_LIMIT` failures, the next attempt must wait 2^(n - limit) s after the
  last failure (at most `LOGIN_DELAY_MAX_SECONDS`), right password or wrong; one attempt per wait is let
  through. Failures are forgotten `LOGIN_FAILURE_WINDOW_MINUTES` after the last one.
- A browser that has signed in as a user carries a signed device cookie; its attempts for that user are
  delayed by their own failures only, so strangers' wrong passwords cannot keep that user out.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import time
from dataclasses import dataclass

import redis
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core import checks, signing
from django.http import HttpResponse
from django.utils.decorators import sync_and_async_middleware

from core.client_address import client_ip

PREFIX = "lfr:login"
DEVICE_COOKIE = "lfr_login_device"
_DEVICE_SALT = "accounts.login_throttle.device"
_DEVICES_PER_COOKIE = 8

# KEYS: address bucket, account (or device) delay. ARGV: now ms, burst, tokens per ms, failure limit,
# max delay ms. Returns {admitted, retry after ms, which limit}.
_ADMIT = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return {0, math.ceil((1 - tokens) / rate), 'address'}
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
local account = redis.call('HMGET', KEYS[2], 'n', 't')
local failures = tonumber(account[1]) or 0
local limit = tonumber(ARGV[4])
if failures >= limit then
  local wait = math.min(tonumber(ARGV[5]), 1000 * 2 ^ (failures - limit))
  local ready = (tonumber(account[2]) or 0) + wait
  if now < ready then
    return {0, math.ceil(ready - now), 'account'}
  end
  redis.call('HSET', KEYS[2], 't', now)
end
return {1, 0, ''}
"""
_REFUND = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens')) or 0
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', math.min(tonumber(ARGV[1]), tokens + 1)))
end
return 1
"""


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # whole seconds, at least 1
    limit: str  # "address" or "account"


@functools.cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _address_key(address: str | None) -> str:
    import ipaddress

    if address is None:
        return f"{PREFIX}:address:unknown"
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:  # one host usually holds a whole /64
        return f"{PREFIX}:address:{ipaddress.ip_network(f'{address}/64', strict=False).network_address}/64"
    return f"{PREFIX}:address:{parsed}"


def _devices(request) -> list[list[str]]:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return []
    try:
        devices = signing.loads(value, salt=_DEVICE_SALT, max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 86400)
    except signing.BadSignature:
        return []
    return [d for d in devices if isinstance(d, list) and len(d) == 2] if isinstance(devices, list) else []


def _account_key(username: str) -> str:
    return f"{PREFIX}:account:{_digest(username)}"


def _device_key(username: str, nonce: str) -> str:
    # The username's digest first, so an administrator's unlock finds every browser's delay of that user.
    return f"{PREFIX}:device:{_digest(username)}:{_digest(nonce)}"


def _delay_key(request, username: str) -> str:
    for name, nonce in _devices(request):
        if name == username:
            return _device_key(username, nonce)
    return _account_key(username)


def _admit(request, delay_key: str | None, max_delay_s: int) -> Refusal | None:
    address_key = _address_key(client_ip(request))
    admitted, retry_ms, limit = _client().eval(
        _ADMIT, 2, address_key, delay_key or f"{PREFIX}:no-delay", _now_ms(), settings.LOGIN_ADDRESS_BURST,
        settings.LOGIN_ADDRESS_PER_MINUTE / 60_000, settings.LOGIN_FAILURE_LIMIT, max_delay_s * 1000)
    if admitted:
        request._login_throttle = (address_key, delay_key)
        return None
    return Refusal(retry_after=max(1, math.ceil(retry_ms / 1000)), limit=limit.decode())


def login_attempt_admit(*, request, username: str) -> Refusal | None:
    """Take a token for the client's address and check the account's delay, before any hashing."""
    return _admit(request, _delay_key(request, username), settings.LOGIN_DELAY_MAX_SECONDS)


def address_attempt_admit(*, request) -> Refusal | None:
    """The address limit alone, for the MFA code pages (django-otp delays each device's wrong codes)."""
    return _admit(request, None, 0)


def address_attempt_refund(*, request) -> None:
    address_key, _ = getattr(request, "_login_throttle", (None, None))
    if address_key:
        _client().eval(_REFUND, 1, address_key, settings.LOGIN_ADDRESS_BURST)


def login_failed(*, request, username: str) -> None:
    _, delay_key = getattr(request, "_login_throttle", (None, None))
    delay_key = delay_key or _delay_key(request, username)
    pipe = _client().pipeline()
    pipe.hincrby(delay_key, "n", 1)
    pipe.hset(delay_key, "t", _now_ms())
    pipe.expire(delay_key, settings.LOGIN_FAILURE_WINDOW_MINUTES * 60)
    pipe.execute()


def login_succeeded(*, request, username: str) -> None:
    """Forget the failures of the key this attempt was judged by, give the address its token back and
    remember this browser for the user (the view sets the cookie: `device_cookie_set`)."""
    _, delay_key = getattr(request, "_login_throttle", (None, None))
    _client().delete(delay_key or _delay_key(request, username))
    address_attempt_refund(request=request)
    devices = _devices(request)
    mine = next((d for d in devices if d[0] == username), None) or [username, secrets.token_urlsafe(24)]
    devices = [mine, *[d for d in devices if d[0] != username]][:_DEVICES_PER_COOKIE]
    request._login_device_cookie = signing.dumps(devices, salt=_DEVICE_SALT, compress=True)


@functools.cache
def _sign_in_paths() -> dict[str, str]:
    from django.urls import reverse

    return {reverse("accounts:login"): "password", reverse("accounts:mfa_verify"): "code",
            reverse("accounts:mfa_enrol"): "code"}


def _refused(request) -> HttpResponse | None:
    kind = _sign_in_paths().get(request.path_info) if request.method == "POST" else None
    if kind is None:
        return None
    if kind == "password":
        from django.contrib.auth.forms import UsernameField

        username = UsernameField().to_python(request.POST.get("username", ""))[:150]  # as authenticate() sees it
        refusal = login_attempt_admit(request=request, username=username)
    else:
        refusal = address_attempt_admit(request=request)
    if refusal is None:
        return None
    from django.template.loader import render_to_string
    from django.urls import reverse

    response = HttpResponse(render_to_string("accounts/throttled.html", {
        "refusal": refusal, "again": reverse("accounts:login") if kind == "password" else request.path_info}),
        status=429)
    response["Retry-After"] = str(refusal.retry_after)
    response["Cache-Control"] = "no-store"
    return response


@sync_and_async_middleware
def sign_in_limit_middleware(get_response):
    """First in MIDDLEWARE: an attempt over a limit is answered here (under ASGI on the event loop) before
    sessions, CSRF or the one thread that runs every synchronous view are involved, so a flood of refused
    attempts does not queue in front of an officer's requests."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            return _refused(request) or await get_response(request)
    else:
        def middleware(request):
            return _refused(request) or get_response(request)
    return middleware


def device_cookie_set(*, request, response) -> None:
    value = getattr(request, "_login_device_cookie", None)
    if value:
        response.set_cookie(DEVICE_COOKIE, value, max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 86400,
                            path="/accounts/", secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                            samesite="Lax")


def failures_counted(*, usernames) -> dict[str, int]:
    """The failed sign-ins counted against each account (from unknown browsers) in the current window; an
    account with LOGIN_FAILURE_LIMIT or more waits before each attempt (locked out). One round trip."""
    usernames = list(usernames)
    if not usernames:
        return {}
    pipe = _client().pipeline()
    for username in usernames:
        pipe.hget(_account_key(username), "n")
    return {username: int(n or 0) for username, n in zip(usernames, pipe.execute(), strict=True)}


def account_unlock(*, username: str) -> int:
    """Forget every failed sign-in of ``username``, from unknown browsers and from the user's own: the next
    attempt is judged afresh. Returns how many delay records were removed."""
    client = _client()
    keys = [_account_key(username), *client.scan_iter(f"{PREFIX}:device:{_digest(username)}:*", count=1000)]
    return client.delete(*keys)


def throttle_clear() -> int:
    """Remove every limit's state (tests, and an operator after an incident)."""
    client = _client()
    keys = list(client.scan_iter(f"{PREFIX}:*", count=1000))
    return client.delete(*keys) if keys else 0


@checks.register(checks.Tags.security)
def check_proxy_addresses(app_configs, **kwargs):
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXIES:  # BEHIND_TLS_PROXY=true
        return [checks.Warning(
            "BEHIND_TLS_PROXY is set but TRUSTED_PROXIES is empty: every client has the proxy's address, so "
            "the per-address sign-in limit is shared by all users and the audit log records the proxy",
            hint="set TRUSTED_PROXIES to the proxy's address or network (docs/configuration.md)",
            id="accounts.W002")]
    return []

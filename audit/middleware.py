"""Sets the audit context (audit/context.py) for each HTTP request: the client's address, the channel ("api"
under /api/, "web" elsewhere) and a correlation id, the request's X-Request-ID when it is a plain token or a
new one, sent back in the response's X-Request-ID."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

from audit.context import Channel, audit_context, correlation_id_clean
from core.client_address import client_ip

REQUEST_ID_HEADER = "X-Request-ID"
API_PREFIX = "/api/"


def request_channel(request) -> Channel:
    return Channel.API if request.path_info.startswith(API_PREFIX) else Channel.WEB


def _context(request):
    return audit_context(channel=request_channel(request), client_ip=client_ip(request),
                         correlation_id=correlation_id_clean(request.headers.get(REQUEST_ID_HEADER)))


@sync_and_async_middleware
def audit_context_middleware(get_response):
    """First in MIDDLEWARE, so every response carries its X-Request-ID and every audit event written while
    answering (a sign-in's included) carries the request's context."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            with _context(request) as context:
                response = await get_response(request)
            response[REQUEST_ID_HEADER] = context.correlation_id
            return response
    else:
        def middleware(request):
            with _context(request) as context:
                response = get_response(request)
            response[REQUEST_ID_HEADER] = context.correlation_id
            return response
    return middleware

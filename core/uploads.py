"""Large uploads: refused by size before the body is parsed, and streamed to disk, never to memory.

A view that accepts a big upload is wrapped in ``capped_upload(max_bytes=...)``. Before Django reads the
multipart body it answers 413 when the declared Content-Length is over the cap, and it replaces the
request's upload handlers with one that writes every file to a temporary file and stops reading at the
cap, whatever length the client declared (chunked bodies, or a Content-Length that lies).

Django's CSRF check reads ``request.POST``, which parses the body; upload handlers can only be replaced
before that. So the wrapped view is exempt from the middleware's check and runs it itself, after the
handlers are in place (the pattern Django documents for per-view upload handlers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework.exceptions import APIException


class UploadTooLarge(Exception):
    def __init__(self, max_bytes: int):
        super().__init__(f"the upload is larger than {max_bytes / 1e6:.0f} MB, the limit for this form")
        self.max_bytes = max_bytes


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Every file to a temporary file on disk; the whole body stops at ``max_bytes``."""

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes:
            self.exceeded = True
            return QueryDict(), MultiValueDict()  # parse nothing
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def install_capped_handler(request: HttpRequest, *, max_bytes: int) -> CappedTemporaryFileUploadHandler:
    """Refuse an over-long declared body, else make the (not yet parsed) body stream to disk with a cap.

    Raises UploadTooLarge; call ``check_upload(handler)`` after touching request.POST / request.FILES."""
    if declared_length(request) > max_bytes:
        raise UploadTooLarge(max_bytes)
    handler = CappedTemporaryFileUploadHandler(request, max_bytes=max_bytes)
    request.upload_handlers = [handler]
    return handler


def check_upload(handler: CappedTemporaryFileUploadHandler) -> None:
    if handler.exceeded:
        raise UploadTooLarge(handler.max_bytes)


def capped_upload(*, max_bytes: Callable[[], int], too_large: Callable[[HttpRequest, UploadTooLarge], HttpResponse]):
    """Decorator for a portal view taking a big upload (see the module docstring).

    ``max_bytes`` is called per request (settings can change in tests); ``too_large`` renders the 413."""

    def decorate(view):
        protected = csrf_protect(view)

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return protected(request, *args, **kwargs)
            try:
                handler = install_capped_handler(request, max_bytes=max_bytes())
                request.POST  # noqa: B018 - parse now, through the capped handler, before the CSRF check
                check_upload(handler)
            except UploadTooLarge as exc:
                return too_large(request, exc)
            return protected(request, *args, **kwargs)

        return csrf_exempt(wrapped)

    return decorate


class PayloadTooLarge(APIException):
    status_code = 413
    default_code = "payload_too_large"


class CappedUploadApiMixin:
    """For an API view taking a big upload: the same cap and disk-only handler as ``capped_upload``.

    DRF parses the body on first access, which for session authentication is its CSRF check inside
    ``initial()``; the handler is installed before that, and the cap is checked once the caller is known."""

    upload_max_bytes: Callable[[], int]

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            self._upload_handler = CappedTemporaryFileUploadHandler(request, max_bytes=type(self).upload_max_bytes())
            request.upload_handlers = [self._upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        handler = getattr(self, "_upload_handler", None)
        if handler is None:
            return
        if declared_length(request) <= handler.max_bytes:
            request.data  # noqa: B018 - parse now: a body longer than it declared is only caught by reading it
        if handler.exceeded or declared_length(request) > handler.max_bytes:
            raise PayloadTooLarge(str(UploadTooLarge(handler.max_bytes)))


class BodySizeLimit:
    """ASGI wrapper: an HTTP body over ``max_bytes()`` gets 413 before Django reads it.

    Django's ASGI handler spools every request body to a temporary file before any middleware or view
    runs, so without this a client could fill the disk with one long body, signed in or not. Refused on
    the declared Content-Length without reading; a body without one (chunked) or longer than it said is
    counted as it arrives and cut at the cap."""

    def __init__(self, app, *, max_bytes: Callable[[], int]):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_bytes()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, limit)
        received, refused = 0, False

        async def capped_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await self._refuse(send, limit)
                    return {"type": "http.disconnect"}  # Django then stops without answering
            return message

        return await self.app(scope, capped_receive, send)

    @staticmethod
    async def _refuse(send, limit: int) -> None:
        body = f"the request body is larger than {limit / 1e6:.0f} MB, the most this server accepts\n".encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

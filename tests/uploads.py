"""Large-upload helpers: multipart bodies built ahead, posted without the test client copying them, and
the peak of what the server allocated meanwhile."""

from __future__ import annotations

import gc
import os
import tracemalloc

from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient, RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from tests.factories import import_zip
from tests.samples import person_jpeg


def multipart(files: dict[str, tuple[str, bytes]]) -> bytes:
    """A multipart/form-data body (boundary BOUNDARY) of {field: (file name, content)}."""
    return encode_multipart(BOUNDARY, {field: SimpleUploadedFile(name, content)
                                       for field, (name, content) in files.items()})


def padded_zip(padding_bytes: int) -> bytes:
    """A valid images zip (p0.jpg) made big by a stored file of random bytes."""
    return import_zip({"p0.jpg": person_jpeg(0), "padding.bin": os.urandom(padding_bytes)})


def wsgi_post(client, path: str, body: bytes, **extra):
    """A call POSTing `body` through the client's handler; the body is already in its FakePayload (the test
    client copies a body it is given, which is not the server's allocation)."""
    cookies = "; ".join(f"{m.key}={m.coded_value}" for m in client.cookies.values())
    environ = RequestFactory().generic("POST", path, body, content_type=MULTIPART_CONTENT, HTTP_COOKIE=cookies,
                                       **extra).environ
    return lambda: client.handler(environ)


def asgi_post(client, path: str, body: bytes, *, content_length: int):
    """A call POSTing `body` through Django's ASGI handler (as uvicorn does) with any declared length."""
    asgi = AsyncClient()
    asgi.cookies = client.cookies
    scope = {"method": "POST", "path": path, "query_string": "",
             "headers": [(b"host", b"testserver"), (b"content-type", MULTIPART_CONTENT.encode()),
                         (b"content-length", str(content_length).encode())],
             "_body_file": FakePayload(body)}
    return lambda: async_to_sync(asgi.request)(**scope)


def peak_bytes(call):
    """(what `call()` returned, the peak of Python allocations in this process while it ran)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

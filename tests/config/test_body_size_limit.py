"""config.asgi refuses an HTTP body over the largest upload any view accepts before Django spools it."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from config.asgi import application

pytestmark = pytest.mark.django_db

CHUNK = 64 * 1024


@pytest.fixture
def small_limit(settings):
    settings.BULK_IMPORT_MAX_BYTES = 256 * 1024
    settings.BULK_IMPORT_CSV_MAX_BYTES = 64 * 1024  # + 64 KB of multipart overhead: 384 KB in all


def call(path: str, *, chunks: int, content_length: int | None):
    """Run the ASGI app on a POST of `chunks` body messages; returns (status, body, chunks it read)."""
    headers = [(b"host", b"testserver"), (b"content-type", b"application/octet-stream")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    read, sent = [0], []

    async def receive():
        if read[0] >= chunks:
            await asyncio.Future()  # the client waits for its answer; Django cancels this when it has sent it
        read[0] += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": read[0] < chunks}

    async def send(message):
        sent.append(message)

    async_to_sync(application)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body.decode(), read[0]


def test_a_declared_length_over_the_limit_is_refused_unread(small_limit):
    status, body, read = call("/accounts/login/", chunks=160, content_length=160 * CHUNK)
    assert (status, read) == (413, 0)
    assert body == "the request body is larger than 0 MB, the most this server accepts\n"


@pytest.mark.parametrize("content_length", [None, 1000], ids=["chunked", "lying"])
def test_a_body_without_an_honest_length_is_cut_at_the_limit(small_limit, content_length):
    status, _, read = call("/accounts/login/", chunks=160, content_length=content_length)
    assert status == 413 and read == 7  # 7 x 64 KB is the first read past 384 KB; the other 153 are never read


def test_a_body_under_the_limit_reaches_django(small_limit):
    status, _, read = call("/accounts/login/", chunks=2, content_length=2 * CHUNK)
    assert status != 413 and read == 2

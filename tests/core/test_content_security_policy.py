"""The Content-Security-Policy header (core/csp.py) on every kind of response, and markup it would refuse.

tests/e2e/test_content_security_policy.py loads the pages in Chromium and listens for violations."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from core.csp import HEADER_VALUE

pytestmark = pytest.mark.django_db

EXPECTED = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_the_policy_is_self_only_without_inline_script_or_style():
    assert HEADER_VALUE == EXPECTED
    assert "unsafe" not in HEADER_VALUE


@pytest.mark.parametrize("url, status", [
    ("/accounts/login/", 200),   # anonymous page
    ("/", 302),                  # redirect to the login page
    ("/api/watchlists/", 403),   # anonymous API call: JSON
    ("/no-such-page/", 404),    # error page
])
def test_anonymous_responses_carry_the_header(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert directives(response)["script-src"] == "'self'"


@pytest.mark.parametrize("url", ["/", "/watchlists/subjects/", "/api/watchlists/", "/api/docs/",
                                 "/api/docs/?script="])
def test_signed_in_pages_and_api_carry_the_header(client_as, detective, url):
    response = client_as(detective).get(url)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == EXPECTED


def test_swagger_ui_has_no_inline_script_or_style(client_as, detective):
    client = client_as(detective)
    html = client.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and "style=" not in html
    assert "/static/css/swagger.css" in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


INLINE = [
    (r"<script(?![^>]*\bsrc=)[^>]*>", "inline <script>"),
    (r"<style\b", "<style> block"),
    (r"\sstyle\s*=", "style attribute"),
    (r"\son[a-z]+\s*=", "event handler attribute"),
    (r"javascript:", "javascript: URL"),
]


def test_no_template_has_markup_the_policy_refuses():
    """A cheap guard on every template; the browser test is the real check."""
    found = []
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = template.read_text()
        found += [f"{template.relative_to(settings.BASE_DIR)}: {label}" for pattern, label in INLINE
                  if re.search(pattern, text, re.IGNORECASE)]
    assert found == []

"""The Content-Security-Policy of every response: scripts, styles and everything else from this origin only.

No inline script, no inline style (``style=""`` or ``<style>``), no ``javascript:`` URLs, no eval: a markup
injection that slips past template escaping cannot run code or restyle the page to mislead an officer.
Pages keep their JavaScript in static/js and their styles in static/css; Swagger UI is served by
drf-spectacular's split view (its init script as a separate file) with its inline style moved to
static/css/swagger.css. ``data:`` images are allowed for Swagger UI's icons (in its stylesheet); the
portal's SVG charts and the MFA QR code are inline ``<svg>`` elements, which img-src does not govern.
``connect-src 'self'`` covers the same-origin websocket of the live page (CSP level 3 matches ws:/wss: to
'self').
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin

POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HEADER_VALUE = "; ".join(f"{directive} {sources}" for directive, sources in POLICY.items())


class ContentSecurityPolicyMiddleware(MiddlewareMixin):  # the mixin: sync and async, like SecurityMiddleware
    """Right after SecurityMiddleware, so static files, error pages and API responses carry it too."""

    def process_response(self, request, response):
        response.headers.setdefault("Content-Security-Policy", HEADER_VALUE)
        return response

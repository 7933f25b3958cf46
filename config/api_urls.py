"""The REST API under /api/: every app's routes, the OpenAPI schema and its browsable page."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

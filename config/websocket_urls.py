"""Websocket routes of every app, in one list."""

from alerts.routing import websocket_urlpatterns as alert_routes

websocket_urlpatterns: list = [*alert_routes]

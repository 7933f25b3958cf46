"""The source policy of camera URLs, built from the settings: where a camera connection may go; and what
may be typed as a camera source, from the registered kinds of source.

CAMERA_ALLOWED_NETWORKS gives the networks and ports (docs/configuration.md); the addresses and ports of
DATABASE_URL and REDIS_URL are refused on top, unless an entry names that one address and port.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from recognition.source_urls import DestinationPolicy, parse_allowed_networks
from recognition.sources import SourcePolicy, sources_help

SERVICE_DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "pgsql": 5432, "redis": 6379, "rediss": 6379}


@functools.lru_cache(maxsize=8)
def _allowed(text: str):
    try:
        return parse_allowed_networks(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CAMERA_ALLOWED_NETWORKS: {exc}") from None


def _service_addresses(url: str) -> set[tuple[str, int]]:
    """Every address the service's host resolves to, with its port; nothing for a Unix socket."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or SERVICE_DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return set()
    if not host or not port:
        return set()
    try:
        return {(str(ipaddress.ip_address(host)), port)}
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return set()
    return {(str(info[4][0]).partition("%")[0], port) for info in infos}


def camera_source_policy() -> SourcePolicy:
    refused = set()
    for url in (settings.DATABASE_URL, settings.REDIS_URL):
        refused |= _service_addresses(url)
    destinations = DestinationPolicy(allowed=_allowed(settings.CAMERA_ALLOWED_NETWORKS), refused=frozenset(
        (ipaddress.ip_address(host), port) for host, port in refused))
    return SourcePolicy(destinations=destinations, file_root=Path(settings.CAMERA_FILE_ROOT),
                        max_frame_pixels=settings.CAMERA_MAX_FRAME_PIXELS)


def camera_sources_help() -> str:
    """The registered kinds' description of what a camera source may be (only the file root is looked up)."""
    return sources_help(SourcePolicy(file_root=Path(settings.CAMERA_FILE_ROOT)))

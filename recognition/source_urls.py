"""Network camera URLs: what one may contain, where it may lead, and how it is shown. No Django imports.

A camera URL is typed by a user and handed to FFmpeg, which writes parts of it unencoded onto the wire
(the RTSP request line, HTTP headers). So a URL is refused if it carries control characters or whitespace
(raw or percent-encoded), and the URL that is stored and opened is rebuilt from its parsed parts. Its
destination must be in an allow-list of networks and ports (:class:`DestinationPolicy`): every address the
host resolves to is checked, again each time a source opens.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_ALLOWED_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
MASK = "\u2022\u2022\u2022"

# Reached only when an allow-list entry lies inside them (a broad 0.0.0.0/0 does not count): this host,
# link-local (cloud metadata at 169.254.169.254), "any" (0.0.0.0 connects to this host), multicast, and the
# metadata addresses that sit in otherwise private ranges.
SPECIAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10", "224.0.0.0/4",
    "255.255.255.255/32", "ff00::/8", "fd00:ec2::254/128", "100.100.100.200/32",
))

_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
_BAD_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})|%[01][0-9a-fA-F]|%7[fF]")
_USERINFO_SAFE = "!$&'()*+,;=-._~"
_PATH_SAFE = "/!$&'()*+,;=:@-._~%"
_SECRET_PARAMETER = re.compile(r"pass|pwd|token|secret|key|auth|sig|cred", re.IGNORECASE)


class URLRefused(ValueError):
    """The URL may not be used; ``reason`` says why, never repeating a password."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class AllowedNetwork:
    network: IPNetwork
    ports: tuple[int, int] | None = None  # inclusive; None: any port

    def admits(self, address: IPAddress, port: int) -> bool:
        return address in self.network and (self.ports is None or self.ports[0] <= port <= self.ports[1])

    @property
    def names_one_port(self) -> bool:
        return self.ports is not None and self.ports[0] == self.ports[1]

    def __str__(self) -> str:
        if self.ports is None:
            return str(self.network)
        ports = str(self.ports[0]) if self.names_one_port else f"{self.ports[0]}-{self.ports[1]}"
        network = f"[{self.network}]" if self.network.version == 6 else str(self.network)
        return f"{network}:{ports}"


def parse_allowed_networks(text: str) -> tuple[AllowedNetwork, ...]:
    """``NETWORK[:PORT|:FIRST-LAST]`` entries, comma-separated; an IPv6 network with a port in brackets.

    ``10.0.0.0/8:554, 192.168.1.0/24, [fd00::/8]:8000-8099``. A network without a port admits any port.
    """
    entries = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        network_text, ports = entry, None
        if entry.startswith("["):
            network_text, _, rest = entry[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"{entry!r}: expected [IPv6 network]:port")
                ports = _ports(entry, rest[1:])
        elif entry.count(":") == 1:
            network_text, port_text = entry.split(":")
            ports = _ports(entry, port_text)
        try:
            network = ipaddress.ip_network(network_text, strict=False)
        except ValueError as exc:
            raise ValueError(f"{entry!r}: {exc}") from None
        entries.append(AllowedNetwork(network, ports))
    return tuple(entries)


def _ports(entry: str, text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"{entry!r}: a port is a number or FIRST-LAST") from None
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"{entry!r}: ports are 1-65535, first <= last")
    return low, high


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


@dataclass(frozen=True)
class DestinationPolicy:
    """Where camera connections may go: ``allowed`` networks and ports; ``refused`` (address, port) pairs
    (the database, the broker) unless an entry names that single address and that port."""

    allowed: tuple[AllowedNetwork, ...] = ()
    refused: frozenset[tuple[IPAddress, int]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "refused", frozenset((_plain(a), int(p)) for a, p in self.refused))

    @classmethod
    def parse(cls, text: str = DEFAULT_ALLOWED_NETWORKS, *,
              refused: Iterable[tuple[str, int]] = ()) -> DestinationPolicy:
        pairs = frozenset((ipaddress.ip_address(host), int(port)) for host, port in refused)
        return cls(allowed=parse_allowed_networks(text), refused=pairs)

    def check_address(self, address: IPAddress, port: int) -> None:
        address = _plain(address)
        admitting = [entry for entry in self.allowed if entry.admits(address, port)]
        if not admitting:
            raise URLRefused(f"{_shown(address)}:{port} is not in an allowed camera network "
                             f"(CAMERA_ALLOWED_NETWORKS)")
        for special in SPECIAL_NETWORKS:
            if address.version == special.version and address in special and not any(
                    entry.network.version == special.version and entry.network.subnet_of(special)
                    for entry in admitting):
                raise URLRefused(f"{_shown(address)} is a loopback, link-local, multicast or metadata address: "
                                 f"refused unless listed on its own in CAMERA_ALLOWED_NETWORKS")
        if (address, port) in self.refused and not any(
                entry.network.num_addresses == 1 and entry.names_one_port for entry in admitting):
            raise URLRefused(f"{_shown(address)}:{port} is one of this system's own services (database or broker)")

    def check(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, each checked; URLRefused on the first refused one."""
        addresses = resolve_host(host, port)
        for address in addresses:
            self.check_address(address, port)
        return addresses


def resolve_host(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise URLRefused(f"the host {host!r} cannot be resolved") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise URLRefused(f"the host {host!r} cannot be resolved")
    return addresses


def _shown(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


def refuse_unsafe_characters(text: str, *, file_path: bool = False) -> None:
    """Control characters and whitespace of any kind, raw or percent-encoded, end the check.

    A local file path (never sent over a network) may have spaces and a plain %."""
    refused = "C" if file_path else "CZ"
    for position, character in enumerate(text):
        if unicodedata.category(character)[0] in refused:
            raise URLRefused(f"camera sources may not contain control characters{'' if file_path else ' or whitespace'} "
                             f"(U+{ord(character):04X} at position {position})")
    if file_path:
        return
    bad = _BAD_PERCENT.search(text)
    if bad:
        raise URLRefused(f"camera URLs may not contain {bad.group()!r}: encoded control characters, or a % that "
                         f"is not followed by two hex digits")


@dataclass(frozen=True)
class CheckedURL:
    """A URL rebuilt from its parts, and the addresses its host resolved to, every one of them allowed."""

    scheme: str
    userinfo: str  # percent-encoded, "" for none
    host: str  # as written in the URL: a DNS name, an IPv4 address or [IPv6]
    port: int | None
    path_and_query: str
    addresses: tuple[IPAddress, ...]
    default_port: int  # the scheme's, where the connection goes when the URL names no port

    @property
    def connect_port(self) -> int:
        return self.port or self.default_port

    def _url(self, host: str) -> str:
        netloc = (f"{self.userinfo}@" if self.userinfo else "") + host + (f":{self.port}" if self.port else "")
        return f"{self.scheme}://{netloc}{self.path_and_query}"

    @property
    def url(self) -> str:
        return self._url(self.host)

    @property
    def pinned_url(self) -> str:
        """The URL with the host replaced by the first checked address: what FFmpeg is given, so that a
        second DNS answer (rebinding) cannot send the connection elsewhere."""
        return self._url(_shown(self.addresses[0]))

    @property
    def host_header(self) -> str | None:
        """For HTTP to a DNS name: the Host the camera expects, which the pinned URL no longer carries."""
        if self.host.startswith("[") or self.host == str(self.addresses[0]) or not self.scheme.startswith("http"):
            return None
        return self.host + (f":{self.port}" if self.port else "")


def network_url_checked(url: str, *, scheme: str, policy: DestinationPolicy, default_port: int) -> CheckedURL:
    """Check the URL's characters, rebuild it from its parsed parts and check every address of its host."""
    refuse_unsafe_characters(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise URLRefused(f"the camera URL cannot be parsed: {exc}") from None
    if parts.scheme.lower() != scheme:
        raise URLRefused(f"expected a {scheme}:// URL")
    if parts.fragment or url.endswith("#"):
        raise URLRefused("a camera URL has no #fragment: write a '#' in a password or path as %23")
    if not parts.hostname:
        raise URLRefused(f"the camera URL {redact_url(url)!r} has no host")
    if port == 0:
        raise URLRefused("port 0 is not a camera port")
    host = _canonical_host(parts.hostname)
    addresses = policy.check(host.strip("[]"), port or default_port)
    userinfo = ""
    if parts.username is not None:
        userinfo = quote(unquote(parts.username), safe=_USERINFO_SAFE)
        if parts.password is not None:
            userinfo += ":" + quote(unquote(parts.password), safe=_USERINFO_SAFE)
    path = quote(parts.path, safe=_PATH_SAFE)
    query = quote(parts.query, safe=_PATH_SAFE + "?")
    return CheckedURL(scheme=scheme, userinfo=userinfo, host=host, port=port,
                      path_and_query=path + (f"?{query}" if query else ""), addresses=tuple(addresses),
                      default_port=default_port)


def network_url_canonical(url: str, *, scheme: str, policy: DestinationPolicy, default_port: int) -> str:
    """The URL to store: rebuilt from its parsed parts, after checking its characters and destination."""
    return network_url_checked(url, scheme=scheme, policy=policy, default_port=default_port).url


def _canonical_host(hostname: str) -> str:
    """An IP literal in its one spelling (IPv6 in brackets), or a DNS name in lower case."""
    if "%" in hostname:
        raise URLRefused("IPv6 zone identifiers are not allowed in camera URLs")
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else str(address)
    name = hostname.lower()
    if not _HOSTNAME.fullmatch(name) or len(name) > 253 or name.rstrip(".").rsplit(".", 1)[-1].isdigit():
        # The last test catches numeric spellings of an address (2130706433, 0x7f.1, 127.1) that the
        # resolver accepts but that name no host.
        raise URLRefused(f"{hostname!r} is neither an IP address nor a host name")
    return name


def redact_url(url: str, *, mask: str = MASK) -> str:
    """The URL with a password, and the values of query parameters that look like secrets, masked.

    The one masking of camera URLs: portal pages, the API, logs and error messages. Control characters are
    shown escaped, so a refused URL cannot add lines to a log or a page.
    """
    text = "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c)[0] in "CZ" and c != " "
                   else c for c in str(url))
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    authority_end = len(rest)
    for delimiter in "/?#":
        found = rest.find(delimiter)
        if found != -1:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        authority = f"{user}:{mask}@{hostport}" if colon else authority
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        masked = []
        for parameter in query.split("&"):
            name, equals, value = parameter.partition("=")
            masked.append(f"{name}={mask}" if equals and value and _SECRET_PARAMETER.search(name) else parameter)
        tail = f"{path}?{'&'.join(masked)}{hash_}{fragment}"
    return f"{scheme}://{authority}{tail}"

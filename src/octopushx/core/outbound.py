"""Every HTTP request the platform makes to an address it was given: one client, one SSRF guard.

Recording fetches today, Studio HTTP steps and outbound webhooks later all go through
``client()``. Its transport resolves each host name once per connection, refuses the
connection when any answer is not a public internet address (loopback, private, link-local,
shared, reserved, multicast…), and then connects to the address it checked, so a second DNS
answer (rebinding) never reaches the socket. TLS still verifies the certificate against the
name in the URL (SNI and ``Host`` are the name, not the address). Redirects are followed by
httpx, a few hops at most, and every hop opens its connection through the same check.

Private targets are allowed only by configuration: ``OUTBOUND_ALLOW_PRIVATE`` for all of them
(a test or lab setting), or ``OUTBOUND_ALLOW`` entries for the few an operator trusts:
``host``, ``host:port``, an address, ``address:port`` or a network (``10.1.0.0/16``). No
environment proxy is used (``trust_env`` off): a proxy would hide the real destination.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx
from django.conf import settings

MAX_REDIRECTS = 5

Resolver = Callable[[str, int], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The destination is not allowed (a private address, a bad scheme or port)."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (duplicates removed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"{host} cannot be resolved ({exc})") from exc
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class _Entry:
    host: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def matches(self, host: str, address: Address, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address in self.network
        return self.host == host.lower().rstrip(".")


def parse_allow_list(entries: Iterable[str]) -> list[_Entry]:
    """``host``, ``host:port``, ``address``, ``[v6]:port``, ``address:port`` or ``network/bits``."""
    parsed = []
    for raw in entries:
        text = raw.strip()
        if not text:
            continue
        port = None
        if text.startswith("["):  # [2001:db8::1]:8080
            inside, _, rest = text[1:].partition("]")
            text, port = inside, int(rest[1:]) if rest.startswith(":") else None
        elif text.count(":") == 1:
            text, port_text = text.split(":")
            port = int(port_text)
        try:
            parsed.append(_Entry(network=ipaddress.ip_network(text, strict=False), port=port))
        except ValueError:
            parsed.append(_Entry(host=text.lower().rstrip("."), port=port))
    return parsed


@dataclass(frozen=True)
class Policy:
    """Which destinations are allowed besides public internet addresses."""

    allow_private: bool = False
    allow: tuple[_Entry, ...] = ()

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            allow_private=bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False)),
            allow=tuple(parse_allow_list(getattr(settings, "OUTBOUND_ALLOW", []))),
        )

    def check(self, host: str, address_text: str, port: int) -> None:
        """Raise ``Refused`` unless a connection to ``address_text`` (for ``host``) is allowed."""
        address = ipaddress.ip_address(address_text.split("%", 1)[0])
        if _public(address) or self.allow_private:
            return
        if any(entry.matches(host, address, port) for entry in self.allow):
            return
        raise Refused(f"{host} points inside a private network ({address})")


def check_url(url: str, *, policy: Policy | None = None, resolver: Resolver | None = None) -> None:
    """Validate a URL someone entered (a webhook, a Studio step) now; ``Refused`` with the reason.

    The request itself is checked again when it is made: the answer may change by then.
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Refused("The URL must be an http(s) URL with a host name")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = (resolver or resolve)(parsed.host, port)
    except httpcore.ConnectError as exc:
        raise Refused(str(exc)) from exc
    for address in addresses:
        (policy or Policy.from_settings()).check(parsed.host, address, port)


class _PinnedBackend(httpcore.SyncBackend):
    """Resolve once, check every answer, connect to the checked address (never the name again)."""

    def __init__(self, policy: Policy, resolver: Resolver):
        self.policy = policy
        self.resolver = resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = self.resolver(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # one forbidden answer refuses the name: the rest could be rebinding
            self.policy.check(host, address, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last  # type: ignore[misc]


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: Policy, resolver: Resolver):
        super().__init__(trust_env=False)
        # httpx takes no network backend; the pool it built above is replaced by one that
        # connects through the guard (same TLS settings: certificates checked for the URL's name).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_PinnedBackend(policy, resolver),
        )


def client(
    *,
    timeout: float,
    policy: Policy | None = None,
    resolver: Resolver | None = None,
    max_redirects: int = MAX_REDIRECTS,
) -> httpx.Client:
    """An httpx client whose every connection (redirect hops included) passes the SSRF guard.

    ``timeout`` bounds connecting and each read. Use it as a context manager. Raises
    ``Refused`` (not an ``httpx`` error) for a forbidden destination, ``httpx.UnsupportedProtocol``
    for a scheme other than http(s).
    """
    return httpx.Client(
        transport=_GuardedTransport(policy or Policy.from_settings(), resolver or resolve),
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=max_redirects,
        trust_env=False,
    )

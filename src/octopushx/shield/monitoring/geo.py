"""The country of an IP address, offline, for "signed in from a new country".

The database ships inside the PyPI package ``geoip2fast`` (country ranges from MaxMind's
GeoLite2, under the GeoLite2 End User License Agreement): IPv4 only, loaded once per process on
first use (about 0.25 s, 45 MB). Only the country is used, for security monitoring, never to
locate a person. Private, loopback and unknown addresses have no country.
"""

from __future__ import annotations

import ipaddress
import threading
from functools import lru_cache

_LOCK = threading.Lock()
_DATABASE = None


def _database():
    global _DATABASE
    with _LOCK:
        if _DATABASE is None:
            from geoip2fast import GeoIP2Fast

            _DATABASE = GeoIP2Fast(verbose=False)
    return _DATABASE


@lru_cache(maxsize=4096)  # the security page looks up each earlier sign-in's address again
def country_of(ip: str | None) -> str:
    """Two-letter country code, or "" when the address is private, local, IPv6 or not listed."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if address.version != 4 or not address.is_global:
        return ""
    code = _database().lookup(str(address)).country_code
    return code if len(code) == 2 and code.isalpha() else ""

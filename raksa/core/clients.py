"""The client's address: the peer's, or, behind a trusted proxy, the one it forwarded.

`X-Forwarded-For` is anyone's to write, so it is believed only when the peer (REMOTE_ADDR) is one
of RAKSA_TRUSTED_PROXIES; then the address is the rightmost one in the header that is not itself a
trusted proxy (each proxy appends the address it received from). Used by the access log's capture
and the log-in throttle alike, so both see the same client.
"""

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings


def client_address(meta: Mapping[str, str]) -> str:
    """The client's address from a request's META (the capture passes META to skip the request object)."""
    peer = meta.get("REMOTE_ADDR", "")
    proxies = settings.RAKSA_TRUSTED_PROXIES
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    for candidate in reversed(forwarded.split(",")):
        address = candidate.strip()
        if not _valid(address):
            return peer  # a malformed hop: trust nothing the chain says beyond the proxy
        if not _trusted(address, proxies):
            return address
    return peer


@lru_cache(maxsize=4096)
def _trusted(address: str, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


@lru_cache(maxsize=4096)
def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True

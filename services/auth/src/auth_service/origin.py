"""Where a request comes from, coarsely: what sessions and the security log keep of it."""

from __future__ import annotations

import functools
import ipaddress

from flask import request
from ua_parser import parse as parse_user_agent


def client_address() -> str:
    """The client's address (X-Forwarded-For is trusted only per TRUSTED_PROXY_COUNT)."""
    return request.remote_addr or "unknown"


def where_from() -> dict[str, str]:
    """The request's client, coarsely: its user agent's family and system, and its network
    (/24 for IPv4, /64 for IPv6) rather than its address."""
    return {
        "client": describe_client(request.headers.get("User-Agent", "")),
        "address": coarse_network(client_address()),
    }


@functools.lru_cache(maxsize=1024)
def describe_client(user_agent: str) -> str:
    """The client, coarsely: "Firefox on Linux", "Python Requests", or "Unknown client"."""
    found = parse_user_agent(user_agent[:512])
    agent = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    if agent in (None, "Other"):
        agent = None
    if system in (None, "Other"):
        system = None
    if agent and system:
        return f"{agent} on {system}"
    return agent or system or "Unknown client"


def coarse_network(address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of ``address``; "unknown" when it is not one."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    prefix = 24 if parsed.version == 4 else 64
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))

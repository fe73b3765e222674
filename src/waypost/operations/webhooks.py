"""Webhook URLs a run may be given: the `webhooks.url` policy of langgraph.json, checked when
the run is created (422), so a URL the operator did not allow is never called."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from waypost.config import WebhookPolicy
from waypost.errors import InvalidInput

DEFAULT_PORTS = {"http": 80, "https": 443}


def check_webhook_url(url: str, policy: WebhookPolicy) -> None:
    """Without a `webhooks.url` section any http(s) URL and this server's own paths are
    allowed; with one, what it says, and no private or local address unless named."""
    if policy.max_url_length is not None and len(url) > policy.max_url_length:
        raise InvalidInput(f"webhook URL longer than {policy.max_url_length} characters")
    if url.startswith("/"):
        if policy.disable_loopback:
            raise InvalidInput("webhook: relative URLs (calls to this server) are disabled")
        return
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput("webhook must be an http(s) URL or a path on this server")
    if policy.require_https and parts.scheme != "https":
        raise InvalidInput("webhook must use https")
    host = parts.hostname.lower()
    if policy.allowed_domains and not any(_domain_matches(host, d) for d in policy.allowed_domains):
        raise InvalidInput(f"webhook host {host} is not in the allowed domains")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise InvalidInput("webhook URL has an invalid port") from None
    if policy.allowed_ports and port not in policy.allowed_ports:
        raise InvalidInput(f"webhook port {port} is not allowed")
    if policy.policed and not policy.allowed_domains and _private(host):
        raise InvalidInput(f"webhook host {host} is a private or local address")


def _domain_matches(host: str, allowed: str) -> bool:
    if allowed.startswith("*."):
        return host.endswith(allowed[1:])  # subdomains only, not the apex
    return host == allowed


def _private(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: resolving it here would not stop it resolving elsewhere later
    return not ip.is_global

"""Where a partner's ISO 18626 endpoint may point.

Kauko posts to a partner's endpoint and shows staff what it answered, so an endpoint at this
server or inside its network would let a configuration admin probe and read internal
services. Loopback, private, link-local (cloud metadata), unspecified and reserved
addresses are refused, also behind a host name that resolves to one, unless the deployment
allows them (`KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS`: the demo and the tests, whose partners
live on 127.0.0.1).

This is the configuration-time check. A name that does not resolve now is accepted (the
partner's DNS may be down for a moment).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_unspecified or address.is_reserved or address.is_multicast
            or not address.is_global)


def _addresses(host: str) -> list:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    found = []
    for *_rest, sockaddr in answers:
        try:
            found.append(ipaddress.ip_address(sockaddr[0].split("%")[0]))
        except ValueError:
            continue
    return found


def internal_endpoint_error(url: str) -> str | None:
    """Why `url` may not be a partner's endpoint, or None."""
    if not url or getattr(settings, "KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS", False):
        return None
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost") or any(
            _internal(address) for address in _addresses(host)):
        return _("The endpoint points at this server or an internal network (%(host)s): "
                 "partners must be reached at a public address.") % {"host": host}
    return None

"""One reading of an IP address or CIDR network as people type it, for every IP list in the
product (a proxy's whitelist, an API key's allowlist).  Pure Python.

Strict: a network written with host bits set (`10.0.0.7/24`) is refused with the network that was
probably meant, never silently widened; an IPv6 zone id (`fe80::1%eth0`) is refused, since it
names an interface of one machine and means nothing to a server elsewhere.
"""

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NetworkEntryError(ValueError):
    """`text` is not an address or network; `meant` is the network it nearly was (host bits set),
    else None."""

    def __init__(self, text: str, meant: Network | None = None) -> None:
        self.text, self.meant = text, meant
        super().__init__(text)


def parse_network(text: str) -> Network:
    """The network `text` names (an address is a /32 or /128).  Raises NetworkEntryError."""
    if not text or "%" in text:
        raise NetworkEntryError(text)
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise NetworkEntryError(text) from None
        raise NetworkEntryError(text, meant) from None

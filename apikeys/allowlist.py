"""Per-key IP allowlists (K30): parsing what people type, and the check on the hot path.

Pure Python, no Django (each entry is read by `common.networks`, as a proxy's whitelist is).  An
allowlist is stored on the key row as its normalised entries joined by
spaces (`203.0.113.0/24 2001:db8::/32 198.51.100.7`): the one authentication query reads it with
the key, and `allows()` parses each distinct stored text once per process and remembers its
verdict per client address.
"""

import functools
import ipaddress
import re

from common.networks import Network, NetworkEntryError, parse_network

MAX_ENTRIES = 100
# Far longer than any address or network; stops a pasted file before it is parsed.
MAX_INPUT_LENGTH = 10_000
SEPARATORS = re.compile(r"[\s,;]+")


class AllowlistError(ValueError):
    """What is wrong with the allowlist as typed, one message per bad entry."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


def _entry(network: Network) -> str:
    # A single address is written as the address: that is how people read and type it.
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def parse(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Normalised, de-duplicated entries in the order first given, from text separated by commas,
    spaces or new lines (or a list of entries).  Empty: no restriction.

    Raises AllowlistError naming each bad entry: not an address or network, host bits set (with
    the network meant), or more than MAX_ENTRIES entries.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise AllowlistError(["Each allowlist entry must be text."])
        value = " ".join(value)
    if not isinstance(value, str):
        raise AllowlistError(["The allowlist must be text."])
    if len(value) > MAX_INPUT_LENGTH:
        raise AllowlistError([f"The allowlist is too long (at most {MAX_ENTRIES} entries)."])
    entries: list[str] = []
    errors: list[str] = []
    for raw in SEPARATORS.split(value.strip()):
        if not raw:
            continue
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        try:
            network = parse_network(raw)
        except NetworkEntryError as error:
            if error.meant is not None:
                errors.append(f"{shown} has host bits set: did you mean {error.meant}?")
            else:
                errors.append(f"{shown} is not an IPv4 or IPv6 address or CIDR network.")
            continue
        entry = _entry(network)
        if entry not in entries:
            entries.append(entry)
    if errors:
        raise AllowlistError(errors)
    if len(entries) > MAX_ENTRIES:
        raise AllowlistError([f"At most {MAX_ENTRIES} entries, not {len(entries)}."])
    return entries


def stored(entries: list[str]) -> str:
    return " ".join(entries)


@functools.lru_cache(maxsize=4096)
def _networks(text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry) for entry in text.split())


# The verdict for a (list, address) pair is remembered: an integration calls from the same few
# addresses, so the hot path is one dictionary lookup.  Bounded, so a flood of distinct
# addresses only evicts older verdicts.
@functools.lru_cache(maxsize=65_536)
def allows(text: str, address: str) -> bool:
    """True when `address` (the client address, A13) is inside one of the stored entries `text`.
    An address that is not an IP address is never allowed."""
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped  # ::ffff:203.0.113.7 is 203.0.113.7 on a dual-stack socket
    return any(client in network for network in _networks(text))

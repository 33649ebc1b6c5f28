"""common.networks: the one reading of a typed IP address or network, shared by a proxy's
whitelist and an API key's allowlist."""

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from apikeys import allowlist
from common.networks import NetworkEntryError, parse_network
from proxies import inputs


@pytest.mark.parametrize(
    ("text", "network"),
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("::1", "::1/128"),
    ],
)
def test_addresses_and_networks_are_read(text, network):
    assert parse_network(text) == ipaddress.ip_network(network)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("10.0.0.7/24", "10.0.0.0/24"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("", None),
        ("fe80::1%eth0", None),
        ("fe80::1%eth0/128", None),
        ("example.com", None),
        ("10.0.0.0/33", None),
    ],
)
def test_bad_entries_say_what_was_meant_when_it_is_clear(text, meant):
    with pytest.raises(NetworkEntryError) as error:
        parse_network(text)
    assert (str(error.value.meant) if error.value.meant else None) == meant


def test_both_lists_refuse_a_zone_id_and_name_the_network_meant():
    with pytest.raises(allowlist.AllowlistError, match="fe80::1%eth0 is not an IPv4"):
        allowlist.parse("fe80::1%eth0")
    with pytest.raises(ValidationError, match=r"did you mean 10\.0\.0\.0/24\?"):
        inputs.clean_ip_whitelist(["10.0.0.7/24"])

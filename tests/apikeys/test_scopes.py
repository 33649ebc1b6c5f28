"""Scope names and grouping (SPEC 2.1, K1, K2)."""

import pytest

from apikeys.scopes import SCOPE_NAMES, normalize_scopes, scope_groups


def test_five_scopes_grouped_by_area_in_display_order():
    groups = [(group, [s.name for s in scopes]) for group, scopes in scope_groups()]
    assert groups == [
        ("Proxies", ["proxies:read", "proxies:write", "geo:read"]),
        ("Statistics", ["stats:read"]),
        ("Billing", ["balance:read"]),
    ]
    assert len(SCOPE_NAMES) == 5


def test_normalize_deduplicates_and_orders_canonically():
    assert normalize_scopes(["balance:read", "proxies:read", "balance:read"]) == [
        "proxies:read",
        "balance:read",
    ]


@pytest.mark.parametrize("scopes", [[], [""], ["  "]])
def test_at_least_one_scope_is_required(scopes):
    with pytest.raises(ValueError, match="at least one"):
        normalize_scopes(scopes)


@pytest.mark.parametrize("unknown", ["proxies:admin", "PROXIES:READ", "*", "proxies"])
def test_unknown_scope_is_rejected_by_name(unknown):
    with pytest.raises(ValueError, match="Unknown scope"):
        normalize_scopes(["geo:read", unknown])

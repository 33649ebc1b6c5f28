"""The five API key scopes (SPEC 2.1), grouped as every scope picker shows them.

Scopes are independent (K1): holding `proxies:write` grants nothing that `proxies:read` grants.
"""

from dataclasses import dataclass

PROXIES_READ = "proxies:read"
PROXIES_WRITE = "proxies:write"
GEO_READ = "geo:read"
STATS_READ = "stats:read"
BALANCE_READ = "balance:read"


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    group: str
    description: str


SCOPES: tuple[Scope, ...] = (
    Scope(
        PROXIES_READ,
        "Proxies",
        "List and retrieve proxies, their configuration, limits and whitelists",
    ),
    Scope(
        PROXIES_WRITE, "Proxies", "Create, update, delete proxies; change limits and IP whitelists"
    ),
    Scope(GEO_READ, "Proxies", "The geo directory: countries, states, cities, ZIP codes"),
    Scope(STATS_READ, "Statistics", "Traffic statistics and usage report export"),
    Scope(BALANCE_READ, "Billing", "Balance, transaction history, available plans"),
)
SCOPE_NAMES: frozenset[str] = frozenset(scope.name for scope in SCOPES)
_ORDER = {scope.name: index for index, scope in enumerate(SCOPES)}


def scope_groups() -> list[tuple[str, list[Scope]]]:
    """Scopes grouped by area, in display order: [("Proxies", [...]), ("Statistics", [...]), ...]."""
    groups: dict[str, list[Scope]] = {}
    for scope in SCOPES:
        groups.setdefault(scope.group, []).append(scope)
    return list(groups.items())


def normalize_scopes(names: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Validated, de-duplicated scope names in canonical order.

    Raises ValueError naming the unknown scopes, or when none is given (K2).
    """
    cleaned = {str(name).strip() for name in names if str(name).strip()}
    unknown = sorted(cleaned - SCOPE_NAMES)
    if unknown:
        raise ValueError(
            f"Unknown scope(s): {', '.join(unknown)}. Valid scopes: {', '.join(sorted(SCOPE_NAMES))}."
        )
    if not cleaned:
        raise ValueError("Choose at least one scope.")
    return sorted(cleaned, key=_ORDER.__getitem__)

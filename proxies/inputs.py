"""Proxy input: the one path from raw values to typed input, for the dashboard and the API alike.

Forms and serializers check the shape of what arrives (a string, a list of integers, an object).
`proxy_create_input` and `proxy_update_input` turn those values into a `ProxyCreateInput` or a
`ProxyUpdateInput`, checking every value (name pattern, plan, countries, IP syntax, limit values)
and raising one `ValidationError` with every problem, keyed by field.  The services then take
these typed inputs and check only the rules that depend on the account's other rows, under its lock
(the per-account cap, name uniqueness, a proxy deleted meanwhile).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Final

from django.core.exceptions import ValidationError

from billing.models import Plan, ProxyType
from common.money import has_cents_only, round_cents
from common.networks import NetworkEntryError, parse_network
from proxies.geo.models import Country

from .models import NAME_PATTERN, LimitPeriod, LimitType, ProxyStatus

NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 500
MAX_WHITELIST_ENTRIES = 100
MAX_COUNTRIES = 250
MAX_LIMIT = Decimal("1e15")
# Networks that admit every address: allowed, but only on purpose (a dashboard confirmation; a
# warning in the API's `meta.warnings`).
ALLOW_EVERYONE_NETWORKS = ("0.0.0.0/0", "::/0")
_NAME = re.compile(NAME_PATTERN)


class Keep(Enum):
    """The value of a field an update leaves as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True)
class Limits:
    """A validated usage limit; `total` is USD for money limits, bytes for traffic limits."""

    limit_type: str
    time_period: str
    total: Decimal


@dataclass(frozen=True)
class ProxyCreateInput:
    """Everything a new proxy needs, every value checked."""

    name: str
    proxy_type: str
    plan: Plan
    country_ids: list[int]
    description: str
    ip_whitelist: list[str]
    limits: Limits | None


@dataclass(frozen=True)
class ProxyUpdateInput:
    """The changes to a proxy, every value checked; KEEP leaves a field as it is.  `limits=None`
    removes the limit; `enabled` switches the proxy on or off."""

    description: str | Keep = KEEP
    country_ids: list[int] | Keep = KEEP
    ip_whitelist: list[str] | Keep = KEEP
    limits: Limits | Keep | None = KEEP
    enabled: bool | Keep = KEEP


def whitelist_allows_everyone(entries: list[str]) -> bool:
    """Whether a cleaned whitelist contains a network that admits every address."""
    return any(entry in ALLOW_EVERYONE_NETWORKS for entry in entries)


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError({"name": "Name is required."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Name must be at most {NAME_MAX_LENGTH} characters."})
    if not _NAME.match(name):
        raise ValidationError(
            {"name": "Use only lower-case letters, digits and underscores (^[a-z0-9_]+$)."}
        )
    return name


def clean_description(description: object) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ValidationError({"description": "Description must be text."})
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {"description": f"Description must be at most {DESCRIPTION_MAX_LENGTH} characters."}
        )
    return description


def clean_ip_whitelist(entries: object) -> list[str]:
    """IPv4/IPv6 addresses or CIDR networks, normalised and de-duplicated in their given order.

    A network written with host bits set (10.0.0.7/24) is rejected rather than silently widened.
    """
    if entries is None:
        return []
    if not isinstance(entries, list | tuple):
        raise ValidationError({"ip_whitelist": "Send a list of IP addresses or CIDR networks."})
    if len(entries) > MAX_WHITELIST_ENTRIES:
        raise ValidationError({"ip_whitelist": f"At most {MAX_WHITELIST_ENTRIES} entries."})
    cleaned: list[str] = []
    errors: list[str] = []
    for entry in entries:
        text = entry.strip() if isinstance(entry, str) else ""
        try:
            network = parse_network(text)
        except NetworkEntryError as error:
            hint = f" (did you mean {error.meant}?)" if error.meant is not None else ""
            errors.append(f"{entry!r} is not an IPv4/IPv6 address or CIDR network{hint}.")
            continue
        # Written as given: an address stays an address, a network (even a /32) a network.
        value = str(network) if "/" in text else str(network.network_address)
        if value not in cleaned:
            cleaned.append(value)
    if errors:
        raise ValidationError({"ip_whitelist": errors})
    return cleaned


def clean_limits(limits: object) -> Limits | None:
    """`{"limit_type", "time_period", "total_limit"}` or None for no limit."""
    if limits is None:
        return None
    if not isinstance(limits, Mapping):
        raise ValidationError(
            {"limits": "Send an object with limit_type, time_period and total_limit, or null."}
        )
    errors: dict[str, str] = {}
    unknown = set(limits) - {"limit_type", "time_period", "total_limit"}
    if unknown:
        errors["limits"] = f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."
    limit_type, period, total = (
        limits.get("limit_type"),
        limits.get("time_period"),
        limits.get("total_limit"),
    )
    if limit_type not in LimitType.values:
        errors["limits.limit_type"] = "Choose money or traffic."
    if period not in LimitPeriod.values:
        errors["limits.time_period"] = "Choose daily or monthly."
    amount = None
    if isinstance(total, bool) or not isinstance(total, int | float | str | Decimal):
        errors["limits.total_limit"] = "Send a number."
    else:
        try:
            amount = Decimal(str(total))
        except InvalidOperation:
            errors["limits.total_limit"] = "Send a number."
    if amount is not None and "limits.total_limit" not in errors:
        if not amount.is_finite() or amount < 0 or amount > MAX_LIMIT:
            errors["limits.total_limit"] = "Send a number from 0 up to 10^15."
        elif limit_type == LimitType.TRAFFIC and amount != amount.to_integral_value():
            errors["limits.total_limit"] = "A traffic limit is a whole number of bytes."
        elif limit_type == LimitType.MONEY and not has_cents_only(amount):
            errors["limits.total_limit"] = "A money limit has at most two decimal places."
    if errors or amount is None:
        raise ValidationError(errors)
    return Limits(str(limit_type), str(period), round_cents(amount))


def clean_countries(country_ids: object) -> list[int]:
    """Known country ids (ISO 3166-1 numeric codes), de-duplicated in their given order."""
    if country_ids is None:
        return []
    if not isinstance(country_ids, list | tuple) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in country_ids
    ):
        raise ValidationError({"countries": "Send a list of country ids (integers)."})
    ids = list(dict.fromkeys(country_ids))
    out_of_range = [c for c in ids if not 0 < c < 1000]
    if out_of_range:
        raise ValidationError(
            {"countries": f"Unknown country id(s): {', '.join(map(str, out_of_range))}."}
        )
    if len(ids) > MAX_COUNTRIES:
        raise ValidationError({"countries": f"At most {MAX_COUNTRIES} countries."})
    known = set(Country.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [c for c in ids if c not in known]
    if missing:
        raise ValidationError(
            {"countries": f"Unknown country id(s): {', '.join(map(str, missing))}."}
        )
    return ids


def clean_plan(tariff_id: object, proxy_type: object) -> Plan:
    """The enabled plan `tariff_id` of the proxy type (the API calls a plan a tariff)."""
    if isinstance(tariff_id, bool) or not isinstance(tariff_id, int):
        raise ValidationError({"tariff_id": "Send the id (integer) of a plan."})
    plan = Plan.objects.filter(pk=tariff_id, enabled=True, proxy_type=proxy_type).first()
    if plan is None:
        raise ValidationError({"tariff_id": f"No enabled {proxy_type} plan with id {tariff_id}."})
    return plan


def clean_enabled(status: object) -> bool:
    """The `status` a client may set: active (switched on) or inactive (switched off)."""
    if status not in (ProxyStatus.ACTIVE, ProxyStatus.INACTIVE):
        raise ValidationError({"status": "Choose active or inactive."})
    return status == ProxyStatus.ACTIVE


class _Errors:
    """Collects per-field messages from several cleaners into one ValidationError."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def clean[T](self, cleaner: Callable[..., T], *raw: object) -> T | None:
        try:
            return cleaner(*raw)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.messages.setdefault(key, []).extend(messages)
            return None

    def raise_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def proxy_create_input(data: Mapping[str, object]) -> ProxyCreateInput:
    """A new proxy's raw values (`name`, `proxy_type`, `tariff_id`, `countries`, `description`,
    `ip_whitelist`, `limits`) as a ProxyCreateInput; one ValidationError lists every problem."""
    errors = _Errors()
    name = errors.clean(clean_name, data.get("name"))
    description = errors.clean(clean_description, data.get("description"))
    ip_whitelist = errors.clean(clean_ip_whitelist, data.get("ip_whitelist"))
    limits = errors.clean(clean_limits, data.get("limits"))
    country_ids = errors.clean(clean_countries, data.get("countries"))
    proxy_type = data.get("proxy_type")
    plan = None
    if proxy_type not in ProxyType.values:
        errors.messages.setdefault("proxy_type", []).append("Choose residential or mobile.")
    else:
        plan = errors.clean(clean_plan, data.get("tariff_id"), proxy_type)
    errors.raise_any()
    assert name is not None and plan is not None  # raise_any() raised otherwise
    return ProxyCreateInput(
        name=name,
        proxy_type=str(proxy_type),
        plan=plan,
        country_ids=country_ids or [],
        description=description or "",
        ip_whitelist=ip_whitelist or [],
        limits=limits,
    )


_UPDATE_CLEANERS: dict[str, tuple[str, Callable[[object], object]]] = {
    # raw key -> (ProxyUpdateInput field, cleaner)
    "description": ("description", clean_description),
    "countries": ("country_ids", clean_countries),
    "ip_whitelist": ("ip_whitelist", clean_ip_whitelist),
    "limits": ("limits", clean_limits),
    "status": ("enabled", clean_enabled),
}


def proxy_update_input(data: Mapping[str, object]) -> ProxyUpdateInput:
    """The raw changes to a proxy (any of `description`, `countries`, `ip_whitelist`, `limits`,
    `status`; absent keys keep their value) as a ProxyUpdateInput; one ValidationError lists every
    problem."""
    errors = _Errors()
    changes: dict[str, object] = {}
    for key, (field, cleaner) in _UPDATE_CLEANERS.items():
        if key in data:
            before = len(errors.messages)
            value = errors.clean(cleaner, data[key])
            if len(errors.messages) == before:
                changes[field] = value
    errors.raise_any()
    return ProxyUpdateInput(**changes)  # type: ignore[arg-type]

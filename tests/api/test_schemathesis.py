"""The Public API against its own OpenAPI schema (A6): a bounded, seeded Schemathesis run.

Every operation is driven through Schemathesis's coverage phase (boundary, missing, empty and
invalid values of every parameter and body field, unexpected methods) and property-based fuzzing
with valid and invalid input, and every built-in check runs on every answer: no 5xx; every status, header and content type
documented; the body as the schema describes it; valid input accepted and invalid input refused;
authentication not ignored; an undocumented method refused with 405.  The stateful test follows
the schema's links from a created proxy to the operations on it.

Requests go through Django's WSGI handler in this process, inside the test's transaction, with an
all-scopes key of an account that has plans, funds, a proxy with usage, and the test geo
directory.  The seed and the number of examples are fixed, so a run is repeatable and takes
about as long every time.

The schema states what OpenAPI can express; what it cannot, its descriptions say: a date range's
order and longest span, which country codes the directory holds, which plan and countries exist,
that a proxy name is unique, an IP's syntax, a limit's unit.  Valid (positive) cases are brought
within those described rules before they are sent (`within_described_rules`), so "valid input
accepted" checks everything the schema does state.
"""

import itertools
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from api.params import DateRangeParamsSerializer
from apikeys.scopes import SCOPE_NAMES
from apikeys.services import api_key_create
from billing.api.serializers import BalanceHistoryParamsSerializer
from common.dates import today_utc
from proxies.api.serializers import MAX_STATISTIC_DAYS
from proxies.geo.models import Country
from stats.api.serializers import UsageExportParamsSerializer
from tests.factories import PlanFactory

SEED = 20261204
# Examples per operation and generation phase; with the coverage phase's own cases this keeps the
# whole run around half a minute on the two-core reference machine.
MAX_EXAMPLES = 25
STATEFUL_SCENARIOS = 15
STATEFUL_STEPS = 8

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The key is the test account's (`world`), sent with every request; Schemathesis's
            # checks take it away or spoil it themselves to see the API refuse (401).
            "with-security-parameters": False,
        },
        "checks": {"enabled": True},
    }
)
# Loaded from the application itself; generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/v1/schema", WSGIHandler(), config=CONFIG)

# The date ranges of each operation: (first day, last day, longest span in days), as validated.
RANGES = {
    "/v1/user/traffic": ("date_from", "date_to", DateRangeParamsSerializer.max_span_days),
    "/v1/user/balance-history": (
        "date_from",
        "date_to",
        BalanceHistoryParamsSerializer.max_span_days,
    ),
    "/v1/proxy/{id}/usage/export": (
        "date_from",
        "date_to",
        UsageExportParamsSerializer.max_span_days,
    ),
    "/v1/proxy": ("statistic_from", "statistic_to", MAX_STATISTIC_DAYS),
    "/v1/proxy/{id}": ("statistic_from", "statistic_to", MAX_STATISTIC_DAYS),
}


class World:
    """What the account holds, for bringing valid cases within the described rules."""

    def __init__(
        self, *, headers: dict[str, str], plans: dict[str, int], country_codes: list[str]
    ) -> None:
        self.headers = headers
        self.plans = plans
        self.country_codes = country_codes
        self.country_ids = set(Country.objects.values_list("pk", flat=True))
        self.names = itertools.count()


@pytest.fixture
def requests_stay_in_the_test_transaction():
    """Django's WSGI handler closes the database connection around each request when it is not
    in autocommit mode, as inside a test's transaction; Django's test client keeps it open the
    same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(
    requests_stay_in_the_test_transaction, geo, funded, plan, make_proxy, record, settings
) -> World:
    """An account with a plan of each type, funds, a proxy with today's usage, and an all-scopes
    key.  The limits leave room for the run: the auth-failure limit would otherwise answer the
    checks that send no key, and then everything else, with 429 (still documented)."""
    settings.API_AUTH_FAILURE_LIMIT = 1_000_000
    mobile = PlanFactory(mobile=True)
    record(make_proxy(), 10**6, 10)
    key = api_key_create(owner=funded, name="Schemathesis", scopes=sorted(SCOPE_NAMES)).key
    return World(
        headers={"X-API-Key": key},
        plans={plan.proxy_type: plan.pk, mobile.proxy_type: mobile.pk},
        country_codes=list(Country.objects.order_by("code").values_list("code", flat=True)),
    )


def _day(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _range_within_rules(query: dict, first: str, last: str, span: int) -> None:
    """A range out of order or longer than `span` days, as the endpoint reads it (a missing end
    is the 1st of the last day's month, or today), is ordered and shortened."""
    today = today_utc()
    date_to = _day(query.get(last)) or today
    date_from = _day(query.get(first)) or date_to.replace(day=1)
    if date_from <= date_to and (date_to - date_from).days < span:
        return
    date_from, date_to = sorted((date_from, date_to))
    date_from = max(date_from, date_to - timedelta(days=span - 1))
    query[first], query[last] = date_from.isoformat(), date_to.isoformat()


def _body_within_rules(case, world: World) -> None:
    body = case.body
    if not isinstance(body, dict):
        return
    if "name" in body:  # unique per account
        body["name"] = f"{body['name'][:56]}_{next(world.names):07d}"
    if "tariff_id" in body:  # an enabled plan of the proxy's type
        body["tariff_id"] = world.plans[body["proxy_type"]]
    if isinstance(body.get("countries"), list):  # countries the directory holds
        body["countries"] = [c for c in body["countries"] if c in world.country_ids]
    if isinstance(body.get("ip_whitelist"), list):  # addresses or networks
        body["ip_whitelist"] = [f"192.0.2.{n}" for n in range(len(body["ip_whitelist"]))]
    limits = body.get("limits")
    if isinstance(limits, dict):  # whole bytes, or USD with cents
        total = Decimal(str(limits["total_limit"]))
        step = Decimal(1) if limits["limit_type"] == "traffic" else Decimal("0.01")
        limits["total_limit"] = float(total.quantize(step, rounding=ROUND_DOWN))


def within_described_rules(case, world: World) -> None:
    """A valid case changed only where the schema describes a rule it cannot state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    path = case.operation.path
    if path in RANGES and isinstance(case.query, dict):
        first, last, span = RANGES[path]
        _range_within_rules(case.query, first, last, span)
    code = case.query.get("country_code") if isinstance(case.query, dict) else None
    if code and code.upper() not in world.country_codes:
        case.query["country_code"] = world.country_codes[0]
    if case.operation.method.upper() in ("POST", "PUT") and path.startswith("/v1/proxy"):
        _body_within_rules(case, world)


@schema.parametrize()
def test_every_operation_answers_as_its_schema_says(case, world):
    within_described_rules(case, world)
    case.call_and_validate(headers=world.headers)


def test_created_proxies_are_read_changed_exported_and_deleted_through_the_schema_links(world):
    """The stateful phase: scenarios start with `POST /v1/proxy` and follow the 201's links."""

    class Workflow(schema.as_state_machine()):
        # Every scenario starts from the same rows: which steps can follow which depends on the
        # answers (a 201 feeds the links), and Hypothesis replays scenarios expecting the same.
        def setup(self):
            self.savepoint = transaction.savepoint_create()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case):
            within_described_rules(case, world)

        def get_call_kwargs(self, case):
            return {"headers": world.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # As `call_and_validate` does: the checks know the key was given, not generated.
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=world.headers,
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

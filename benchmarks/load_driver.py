"""The Locust side of benchmarks/load.py, run by it in a process of its own.

Locust patches the whole process for gevent when it is imported, so it never shares a process with
Django or with the fault injection; load.py starts this script with a JSON plan and reads a JSON
report back.  Nothing here should be run by hand.

    python benchmarks/load_driver.py PLAN.json REPORT.json

The plan names the two app servers, the accounts (an API key with every scope, the account's
proxies, a plan id for new proxies) and the victim keys, which load.py revokes while they are in
use.  Users:

- `ApiUser`s (half on each server) pick an account and run a mixed workload: every GET endpoint
  of /v1/ (weighted towards the common reads), proxy creates with an Idempotency-Key (one in four
  sent twice, as a client retrying after a lost response would), updates, and deletes of proxies
  they created themselves.  A request counts as a success only when its status is the one the
  endpoint documents for it.
- One `VictimUser` per victim key reads /v1/user/balance with it, a request every 20 ms; every
  request is recorded with its start time and status, so load.py can count 200s answered to a
  request sent after the revocation returned.  After five consecutive 401s it stops, as an
  integration that sees its key revoked would, so the per-address failure limit (A12) never
  blocks the loopback address every user shares.

The report holds Locust's statistics per endpoint (requests, failures, p50, p99, status counts),
every response with a 5xx status or no status (the connection failed), and the victims' records.
"""

import json
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import count

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

PLAN = json.loads(open(sys.argv[1]).read())  # noqa: SIM115
REPORT_PATH = sys.argv[2]
HOSTS: list[str] = PLAN["hosts"]
ACCOUNTS: list[dict] = PLAN["accounts"]
VICTIMS: list[dict] = PLAN["victims"]
TODAY = datetime.now(UTC).date()
# The last 30 days, the period the statistics reads ask for.
PERIOD = f"date_from={TODAY - timedelta(days=29):%Y-%m-%d}&date_to={TODAY:%Y-%m-%d}"

server_errors: list[dict] = []
victim_requests: list[dict] = []
statuses: dict[str, Counter] = defaultdict(Counter)
_next_account = count()
_next_victim = count()


@events.request.add_listener
def _record(request_type, name, response, context, exception, start_time, **kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    statuses[f"{request_type} {name}"][str(status)] += 1
    if status >= 500 or status == 0:
        body = ""
        try:
            body = (response.text or "")[:300]
        except Exception as error:  # the body of a broken response may be unreadable
            body = f"(unreadable body: {type(error).__name__})"
        server_errors.append(
            {
                "at": start_time,
                "method": request_type,
                "name": name,
                "status": status,
                "host": context.get("host", ""),
                "body": body or repr(exception)[:300],
            }
        )
    if "victim" in context:
        victim_requests.append({"victim": context["victim"], "at": start_time, "status": status})


class ApiUser(FastHttpUser):
    """An integration of one account: reads everything, changes proxies now and then."""

    abstract = True
    wait_time = constant(0)
    connection_timeout = 10.0
    network_timeout = 30.0

    def on_start(self) -> None:
        self.account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.headers = {"X-API-Key": self.account["key"]}
        self.created: list[str] = []
        self.serial = count()

    def _call(self, method: str, path: str, name: str, expected: tuple[int, ...], **kwargs):
        with self.client.request(
            method,
            path,
            name=name,
            headers={**self.headers, **kwargs.pop("headers", {})},
            catch_response=True,
            context={"host": self.host},
            **kwargs,
        ) as response:
            if response.status_code in expected:
                response.success()
            else:
                response.failure(f"status {response.status_code}")
            return response

    def _proxy(self) -> str:
        return self.account["proxies"][next(self.serial) % len(self.account["proxies"])]

    @task(6)
    def proxy_list(self) -> None:
        self._call("GET", "/v1/proxy?limit=20", "/v1/proxy", (200,))

    @task(6)
    def proxy_get(self) -> None:
        self._call("GET", f"/v1/proxy/{self._proxy()}", "/v1/proxy/{id}", (200,))

    @task(1)
    def proxy_usage_export(self) -> None:
        self._call(
            "GET",
            f"/v1/proxy/{self._proxy()}/usage/export?{PERIOD}",
            "/v1/proxy/{id}/usage/export",
            (200,),
        )

    @task(3)
    def user_traffic(self) -> None:
        self._call("GET", f"/v1/user/traffic?{PERIOD}", "/v1/user/traffic", (200,))

    @task(6)
    def user_balance(self) -> None:
        self._call("GET", "/v1/user/balance", "/v1/user/balance", (200,))

    @task(2)
    def balance_history(self) -> None:
        self._call(
            "GET",
            f"/v1/user/balance-history?limit=20&{PERIOD}",
            "/v1/user/balance-history",
            (200,),
        )

    @task(2)
    def plans(self) -> None:
        self._call("GET", "/v1/plans?proxy_type=residential", "/v1/plans", (200,))

    @task(2)
    def geo_countries(self) -> None:
        self._call("GET", "/v1/geo/countries?search=united", "/v1/geo/countries", (200,))

    @task(2)
    def geo_states(self) -> None:
        self._call("GET", "/v1/geo/states?country_code=US", "/v1/geo/states", (200,))

    @task(2)
    def geo_cities(self) -> None:
        self._call(
            "GET",
            "/v1/geo/cities?country_code=US&region=California&search=san",
            "/v1/geo/cities",
            (200,),
        )

    @task(1)
    def geo_zip(self) -> None:
        self._call("GET", "/v1/geo/zip?country_code=US&search=941", "/v1/geo/zip", (200,))

    @task(1)
    def schema(self) -> None:
        self._call("GET", "/v1/schema", "/v1/schema", (200,))

    @task(1)
    def docs(self) -> None:
        self._call("GET", "/v1/docs", "/v1/docs", (200,))

    @task(2)
    def proxy_create(self) -> None:
        body = {
            "name": f"load_{uuid.uuid4().hex[:20]}",
            "proxy_type": "residential",
            "tariff_id": self.account["tariff_id"],
            "countries": [840],
            "ip_whitelist": ["203.0.113.0/24"],
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = self._call("POST", "/v1/proxy", "/v1/proxy", (201,), json=body, headers=headers)
        if response.status_code != 201:
            return
        public_id = response.json()["data"]["id"]
        self.created.append(public_id)
        if next(self.serial) % 4 == 0:
            # A retry after a lost response: the same proxy, never a second one.
            replay = self._call(
                "POST", "/v1/proxy", "/v1/proxy (replay)", (201,), json=body, headers=headers
            )
            if replay.status_code == 201 and (
                replay.json()["data"]["id"] != public_id
                or replay.headers.get("Idempotent-Replayed") != "true"
            ):
                replay.failure("a replay created or answered another proxy")

    @task(3)
    def proxy_update(self) -> None:
        body = {"description": f"updated at {time.time():.3f}"}
        self._call("PUT", f"/v1/proxy/{self._proxy()}", "/v1/proxy/{id}", (200,), json=body)

    @task(1)
    def proxy_delete(self) -> None:
        if self.created:
            public_id = self.created.pop()
            self._call("DELETE", f"/v1/proxy/{public_id}", "/v1/proxy/{id}", (200,))


class VictimUser(FastHttpUser):
    """Keeps using one key that load.py revokes during the run."""

    abstract = True
    wait_time = constant(0.02)
    connection_timeout = 10.0
    network_timeout = 30.0

    def on_start(self) -> None:
        self.victim = VICTIMS[next(_next_victim) % len(VICTIMS)]
        self.refusals = 0

    @task
    def balance(self) -> None:
        with self.client.get(
            "/v1/user/balance",
            name="/v1/user/balance (victim key)",
            headers={"X-API-Key": self.victim["key"]},
            catch_response=True,
            context={"victim": self.victim["label"], "host": self.host},
        ) as response:
            # 200 before the revocation, 401 after it: both are the product working.
            if response.status_code in (200, 401):
                response.success()
            else:
                response.failure(f"status {response.status_code}")
            self.refusals = self.refusals + 1 if response.status_code == 401 else 0
        if self.refusals >= 5:
            raise StopUser()


def user_classes() -> list[type]:
    classes: list[type] = []
    for index, host in enumerate(HOSTS):
        classes.append(type(f"ApiUser{index}", (ApiUser,), {"host": host, "weight": 1}))
    for index in range(len(VICTIMS)):
        host = HOSTS[index % len(HOSTS)]
        classes.append(type(f"VictimUser{index}", (VictimUser,), {"host": host, "fixed_count": 1}))
    return classes


def entry_report(entry) -> dict:
    return {
        "method": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        "p50": entry.get_response_time_percentile(0.5),
        "p99": entry.get_response_time_percentile(0.99),
        "max": entry.max_response_time,
        "statuses": dict(statuses.get(f"{entry.method} {entry.name}", {})),
    }


def main() -> None:
    users = PLAN["users"] + len(VICTIMS)
    env = Environment(user_classes=user_classes(), events=events, catch_exceptions=True)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(users, 1))
    started = time.time()
    print(f"STARTED {started:.6f}", flush=True)
    gevent.spawn_later(PLAN["duration"], runner.quit)
    runner.greenlet.join()
    finished = time.time()
    total = env.stats.total
    report = {
        "started": started,
        "finished": finished,
        "endpoints": [entry_report(entry) for entry in env.stats.entries.values()],
        "total": {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": total.num_requests / max(finished - started, 1e-9),
            "p50": total.get_response_time_percentile(0.5),
            "p99": total.get_response_time_percentile(0.99),
        },
        "errors": [
            {
                "method": error.method,
                "name": error.name,
                "error": str(error.error)[:300],
                "occurrences": error.occurrences,
            }
            for error in env.stats.errors.values()
        ],
        "user_errors": runner.exceptions
        and {key: value["msg"][:300] for key, value in runner.exceptions.items()},
        "server_errors": server_errors,
        "victim_requests": victim_requests,
    }
    with open(REPORT_PATH, "w") as output:
        json.dump(report, output)


if __name__ == "__main__":
    main()

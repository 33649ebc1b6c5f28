"""A15: `Idempotency-Key` on POST /v1/proxy: a retry replays, a different body is refused."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from proxies.models import IdempotencyRecord, Proxy
from tests.concurrency import run_in_parallel, skip_unless_postgres
from tests.envelope import assert_error, assert_validation_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(make_key, funded):
    return make_key(scopes="proxies:read proxies:write").key


def post(api_client, key, body, idempotency_key=None):
    headers = {"HTTP_X_API_KEY": key}
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return api_client.post("/v1/proxy", body, format="json", **headers)


def body(plan, **fields):
    return {"name": "retry_me", "proxy_type": "residential", "tariff_id": plan.pk, **fields}


def test_a_retry_replays_the_first_answer_and_creates_nothing(api_client, key, plan):
    first = post(api_client, key, body(plan), "order-42")
    again = post(api_client, key, body(plan), "order-42")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content  # the same JSON to the byte
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Proxy.objects.count() == 1


def test_the_same_key_with_another_body_is_409(api_client, key, plan):
    post(api_client, key, body(plan), "order-42")
    response = post(api_client, key, body(plan, description="changed"), "order-42")
    assert_error(response, 409, "idempotency_conflict")
    assert Proxy.objects.count() == 1


def test_without_the_header_a_retry_is_a_new_request(api_client, key, plan):
    assert post(api_client, key, body(plan)).status_code == 201
    assert_validation_error(post(api_client, key, body(plan)), "name")  # the name is taken now


def test_keys_are_per_account(api_client, key, plan, make_key, other_user, fund):
    theirs = make_key(scopes="proxies:write", owner=fund(other_user, "10.00")).key
    assert post(api_client, key, body(plan), "shared").status_code == 201
    other = post(api_client, theirs, body(plan, name="theirs"), "shared")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Proxy.objects.count() == 2


def test_a_failed_create_stores_nothing_and_can_be_retried(api_client, key, plan):
    bad = post(api_client, key, body(plan, name="Not Valid"), "fix-me")
    assert_validation_error(bad, "name")
    assert not IdempotencyRecord.objects.exists()
    assert post(api_client, key, body(plan, name="not_valid"), "fix-me").status_code == 201


def test_a_key_older_than_24_hours_starts_afresh(api_client, key, plan):
    post(api_client, key, body(plan), "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = post(api_client, key, body(plan, name="second"), "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("value", ["", " " * 0, "x" * 256, "tab\there", "ünïcode"])
def test_a_malformed_key_is_400_and_creates_nothing(api_client, key, plan, value):
    response = api_client.post(
        "/v1/proxy",
        body(plan),
        format="json",
        HTTP_X_API_KEY=key,
        HTTP_IDEMPOTENCY_KEY=value.encode("utf-8").decode("latin-1"),
    )
    assert_validation_error(response, "Idempotency-Key")
    assert not Proxy.objects.exists()


def test_the_schema_documents_the_header_and_the_409(client):
    schema = Client().get("/v1/schema").json()
    operation = schema["paths"]["/v1/proxy"]["post"]
    assert any(
        p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]
    )
    assert "409" in operation["responses"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_exactly_one_proxy(make_key, funded, plan):
    skip_unless_postgres()
    api_key = make_key(scopes="proxies:write").key

    def attempt(_index: int) -> int:
        response = Client().post(
            "/v1/proxy",
            body(plan),
            content_type="application/json",
            HTTP_X_API_KEY=api_key,
            HTTP_IDEMPOTENCY_KEY="burst",
        )
        return response.status_code, response.content

    results = run_in_parallel(6, attempt)
    assert [status for status, _ in results] == [201] * 6, results
    assert len({content for _, content in results}) == 1
    assert Proxy.objects.filter(owner=funded).count() == 1

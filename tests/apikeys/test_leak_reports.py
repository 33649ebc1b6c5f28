"""POST /v1/credentials/revoke (K28): anyone may report leaked keys; live ones are revoked at once,
their owners are told, and the answer never says which credentials were real."""

import json

import pytest

from accounts.models import SecurityActor, SecurityEvent
from apikeys import ratelimit
from apikeys.models import APIKey
from apikeys.services import api_key_rotate
from tests.envelope import assert_error, assert_ok, assert_validation_error
from tests.factories import APIKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/v1/credentials/revoke"
REPORTER = "198.51.100.23"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """The per-address budget is a fixed one-minute window: keep every request of a test in one
    window (15 seconds into it), whenever the test runs."""
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_015.0)


def report(api_client, credentials, *, ip: str = REPORTER, **extra):
    body = {"credentials": credentials, **extra}
    return api_client.post(URL, body, format="json", REMOTE_ADDR=ip)


def revoked(api_key) -> bool:
    return APIKey.objects.get(pk=api_key.pk).revoked_at is not None


def html_of(message) -> str:
    (alternative,) = message.alternatives
    content, mimetype = alternative
    assert mimetype == "text/html"
    return content


def test_a_live_key_is_revoked_and_its_owner_told(api_client, user, mailoutbox):
    api_key = APIKeyFactory(owner=user, name="CI deploy", scopes="balance:read")
    assert_ok(api_client.get("/v1/user/balance", HTTP_X_API_KEY=api_key.key))

    body = assert_ok(report(api_client, [api_key.key]), 202)

    assert body["data"] == {"received": 1}
    assert revoked(api_key)
    assert APIKey.objects.get(pk=api_key.pk).revoked_by is None
    assert_error(
        api_client.get("/v1/user/balance", HTTP_X_API_KEY=api_key.key), 401, "invalid_api_key"
    )

    (message,) = mailoutbox
    assert message.to == [user.email]
    assert "CI deploy" in message.subject and "reported as leaked" in message.subject
    html = html_of(message)
    for text in (message.body, html):
        assert "CI deploy" in text
        assert f"{api_key.display_prefix}..." in text
        assert "reported as leaked" in text
        assert api_key.key not in text
    assert api_key.key not in message.subject

    entry = SecurityEvent.objects.get(key_id=api_key.pk)
    assert entry.account == user
    assert entry.event == "key_revoked"
    assert entry.actor == SecurityActor.LEAK_REPORT
    assert entry.actor_user is None
    assert entry.ip == REPORTER
    assert entry.key_prefix == api_key.display_prefix
    assert entry.details["reason"] == "leaked"
    assert "reported as leaked" in entry.summary
    assert api_key.key not in json.dumps(entry.details)


def test_the_answer_is_the_same_whatever_was_reported(api_client, user, mailoutbox):
    live = APIKeyFactory(owner=user)
    dead = APIKeyFactory(owner=user, revoked=True)
    unknown = "2xt_" + "a" * 36

    answers = [
        report(api_client, [credential]) for credential in (live.key, dead.key, "garbage", unknown)
    ]

    bodies = [assert_ok(response, 202) for response in answers]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["data"] == {"received": 1}
    assert {response["Content-Type"] for response in answers} == {"application/json"}
    assert len({len(response.content) for response in answers}) == 1
    assert revoked(live)
    assert len(mailoutbox) == 1  # for the live key only; the revoked one was not re-revoked
    assert SecurityEvent.objects.filter(event="key_revoked").count() == 1


def test_a_mixed_report_revokes_only_the_live_keys(api_client, user, mailoutbox):
    other = UserFactory()
    mine = APIKeyFactory(owner=user, name="mine")
    theirs = APIKeyFactory(owner=other, name="theirs")
    already = APIKeyFactory(owner=user, revoked=True)
    expired = APIKeyFactory(owner=user, expired=True)
    bystander = APIKeyFactory(owner=user, name="not reported")
    revoked_at = APIKey.objects.get(pk=already.pk).revoked_at
    credentials = [
        "garbage",
        mine.key,
        already.key,
        f"  {theirs.key}\n",  # as found, with the whitespace around it
        expired.key,
        "",
        mine.key,  # twice in one report: revoked and mailed once
    ]

    body = assert_ok(report(api_client, credentials), 202)

    assert body["data"] == {"received": len(credentials)}
    assert revoked(mine) and revoked(theirs)
    assert not revoked(expired) and not revoked(bystander)
    assert APIKey.objects.get(pk=already.pk).revoked_at == revoked_at
    assert sorted(message.to[0] for message in mailoutbox) == sorted([user.email, other.email])
    logged = SecurityEvent.objects.filter(event="key_revoked")
    assert sorted(logged.values_list("key_id", flat=True)) == sorted([mine.pk, theirs.pk])
    assert {entry.actor for entry in logged} == {SecurityActor.LEAK_REPORT}


def test_nothing_live_means_nothing_revoked_mailed_or_logged(api_client, user, mailoutbox):
    api_key = APIKeyFactory(owner=user)
    body = assert_ok(report(api_client, ["garbage", api_key.key[:-1], "2xt_" + "b" * 36]), 202)
    assert body["data"] == {"received": 3}
    assert not revoked(api_key)
    assert mailoutbox == []
    assert not SecurityEvent.objects.exists()


def test_a_retiring_key_is_revoked_too(api_client, user, mailoutbox):
    old = APIKeyFactory(owner=user, name="rotating")
    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="7d")

    assert_ok(report(api_client, [old.key]), 202)

    assert revoked(old)
    assert not revoked(created.api_key)  # its replacement was not reported
    assert len(mailoutbox) == 1
    assert SecurityEvent.objects.filter(key_id=old.pk, event="key_revoked").count() == 1


def test_a_key_retired_after_its_grace_is_left_alone(api_client, user, mailoutbox):
    old = APIKeyFactory(owner=user)
    api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="now")
    assert_ok(report(api_client, [old.key]), 202)
    assert not revoked(old)
    assert mailoutbox == []


def test_a_report_needs_no_csrf_token_or_session(user):
    from django.test import Client

    api_key = APIKeyFactory(owner=user)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        URL,
        json.dumps({"credentials": [api_key.key]}),
        content_type="application/json",
        REMOTE_ADDR=REPORTER,
        HTTP_USER_AGENT="secret-scanner/2.0",
    )
    assert_ok(response, 202)
    assert revoked(api_key)
    assert SecurityEvent.objects.get(key_id=api_key.pk).user_agent == "secret-scanner/2.0"


def test_no_api_key_is_needed_and_a_bad_one_is_ignored(api_client, user):
    api_key = APIKeyFactory(owner=user)
    response = api_client.post(
        URL,
        {"credentials": [api_key.key]},
        format="json",
        HTTP_X_API_KEY="not-a-key",
        REMOTE_ADDR=REPORTER,
    )
    assert_ok(response, 202)
    assert revoked(api_key)


# --- Malformed reports ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "credentials"),
        ({"credentials": []}, "credentials"),
        ({"credentials": "LIVE"}, "credentials"),
        ({"credentials": {"key": "LIVE"}}, "credentials"),
        ({"credentials": None}, "credentials"),
        ({"credentials": ["LIVE", 5]}, "credentials"),
        ({"credentials": [5, 6]}, "credentials"),
        ({"credentials": ["LIVE", None]}, "credentials"),
        ({"credentials": ["LIVE", ["nested"]]}, "credentials"),
        ({"credentials": ["LIVE"] * 101}, "credentials"),
        ({"credentials": ["LIVE", "x" * 1001]}, "credentials"),
        ({"credentials": ["LIVE"], "reason": "found on GitHub"}, "reason"),
    ],
    ids=[
        "empty-object",
        "empty-list",
        "string",
        "object",
        "null",
        "number-among-keys",
        "numbers",
        "null-among-keys",
        "nested-list",
        "101-items",
        "1001-chars",
        "unknown-field",
    ],
)
def test_a_malformed_report_is_400_and_revokes_nothing(
    api_client, user, payload, field, mailoutbox
):
    api_key = APIKeyFactory(owner=user)
    payload = json.loads(json.dumps(payload).replace('"LIVE"', json.dumps(api_key.key)))

    response = api_client.post(URL, payload, format="json", REMOTE_ADDR=REPORTER)

    assert_validation_error(response, field)
    assert not revoked(api_key)
    assert mailoutbox == []
    assert not SecurityEvent.objects.exists()


def test_limits_are_inclusive(api_client, user):
    keys = APIKeyFactory.create_batch(2, owner=user)
    assert_ok(report(api_client, [keys[0].key] + ["x" * 1000] * 99), 202)
    assert revoked(keys[0])
    body = assert_ok(report(api_client, [keys[1].key, *["garbage"] * 99]), 202)
    assert body["data"] == {"received": 100}
    assert revoked(keys[1])


@pytest.mark.parametrize("body", ["{not json", '{"credentials": [', "", "[]", '"2xt_"', "null"])
def test_a_body_that_is_not_a_report_is_refused(api_client, user, body):
    api_key = APIKeyFactory(owner=user)
    response = api_client.post(
        URL,
        body.replace("2xt_", api_key.key),
        content_type="application/json",
        REMOTE_ADDR=REPORTER,
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error_type"] in {"malformed_json", "validation_error"}
    assert not revoked(api_key)


def test_invalid_json_is_malformed_json(api_client, user):
    api_key = APIKeyFactory(owner=user)
    response = api_client.post(
        URL,
        '{"credentials": ["' + api_key.key + '"',
        content_type="application/json",
        REMOTE_ADDR=REPORTER,
    )
    assert_error(response, 400, "malformed_json")
    assert not revoked(api_key)


def test_only_post_is_allowed(api_client):
    response = api_client.get(URL, REMOTE_ADDR=REPORTER)
    assert response.status_code == 405
    assert "POST" in response["Allow"]


# --- The per-address budget ----------------------------------------------------------------------


def test_the_third_report_from_one_address_is_429_while_others_go_on(api_client, user, settings):
    settings.API_LEAK_REPORT_LIMIT = 2
    late = APIKeyFactory(owner=user)

    assert_ok(report(api_client, ["garbage"]), 202)
    assert_ok(report(api_client, ["garbage"]), 202)
    refused = report(api_client, [late.key])

    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert not revoked(late)  # refused before anything was read
    assert not SecurityEvent.objects.exists()

    # Another address has its own budget.
    assert_ok(report(api_client, [late.key], ip="192.0.2.200"), 202)
    assert revoked(late)


def test_malformed_reports_spend_the_budget_too(api_client, user, settings):
    settings.API_LEAK_REPORT_LIMIT = 2
    api_key = APIKeyFactory(owner=user)
    for _ in range(2):
        assert (
            api_client.post(
                URL, "{bad", content_type="application/json", REMOTE_ADDR=REPORTER
            ).status_code
            == 400
        )
    assert_error(report(api_client, [api_key.key]), 429, "rate_limited")
    assert not revoked(api_key)


def test_the_budget_is_separate_from_failed_authentications(api_client, user, settings):
    """Failed key authentications from an address do not use up its leak-report budget."""
    settings.API_LEAK_REPORT_LIMIT = 2
    for _ in range(3):
        api_client.get("/v1/user/balance", HTTP_X_API_KEY="garbage", REMOTE_ADDR=REPORTER)
    api_key = APIKeyFactory(owner=user)
    assert_ok(report(api_client, [api_key.key]), 202)
    assert revoked(api_key)


# --- The schema ----------------------------------------------------------------------------------


def test_the_schema_asks_for_no_api_key_on_this_operation(client):
    schema = json.loads(client.get("/v1/schema").content)
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "credentials_revoke"
    assert operation.get("security") in (None, [], [{}])
    assert not schema.get("security")  # and no global requirement applies instead
    assert "202" in operation["responses"]
    # Other operations do require a key: the absence above is this operation's own.
    balance = schema["paths"]["/v1/user/balance"]["get"]
    assert balance.get("security")

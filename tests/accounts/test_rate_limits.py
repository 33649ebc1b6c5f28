"""AS3: failed sign-ins are limited per account and per client address; floods get a 429 page.

Counters live in the Django cache (Redis when REDIS_URL is set, as in CI's PostgreSQL run), so
these tests exercise whichever cache the suite runs on.  Time enters through the cache: a lockout
"expires" by deleting its keys, never by sleeping.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOCKED = "sign-in to this account is paused"


def sign_in_post(client, login, password, ip="203.0.113.7"):
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    UserFactory(username="alice")
    for _ in range(5):
        response = sign_in_post(client, "alice", "wrong")
        assert "not correct" in response.content.decode()

    response = sign_in_post(client, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert not signed_in(client)


def test_the_lock_counts_the_account_not_the_spelling_of_its_name(client):
    UserFactory(username="alice", email="alice@example.com")
    for login in ("alice", "ALICE", "alice@example.com", "Alice@Example.com", "alice"):
        sign_in_post(client, login, "wrong")
    assert LOCKED in sign_in_post(client, "alice@example.com", DEFAULT_PASSWORD).content.decode()


def test_the_lock_holds_for_the_full_period_after_the_last_failure(client, settings):
    UserFactory(username="alice")
    for _ in range(5):
        sign_in_post(client, "alice", "wrong")
    # The sliding window alone would reopen once the oldest failure ages out; forget the window
    # (as if its five minutes had passed) and the lock still holds.
    allauth_keys = _allauth_failure_keys()
    assert allauth_keys
    cache.delete_many(allauth_keys)
    assert LOCKED in sign_in_post(client, "alice", DEFAULT_PASSWORD).content.decode()


def _allauth_failure_keys() -> list[str]:
    redis_cache = getattr(cache, "_cache", None)
    if redis_cache is not None and hasattr(redis_cache, "get_client"):
        client = redis_cache.get_client()
        prefix = cache.make_key("")
        return [
            key.decode().removeprefix(prefix)
            for key in client.scan_iter(match=cache.make_key("allauth:rl:*login_failed*/key*"))
            if not key.decode().endswith(":lock")
        ]
    return [
        key.split(":", 2)[2]
        for key in cache._cache
        if "login_failed" in key and "/key" in key and not key.endswith(":lock")
    ]


def test_a_locked_account_does_not_lock_out_others(client):
    UserFactory(username="alice")
    UserFactory(username="bob")
    for _ in range(5):
        sign_in_post(client, "alice", "wrong")

    assert LOCKED in sign_in_post(client, "alice", DEFAULT_PASSWORD).content.decode()
    response = sign_in_post(client, "bob", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_four_failures_then_the_right_password_still_signs_in(client):
    UserFactory(username="alice")
    for _ in range(4):
        sign_in_post(client, "alice", "wrong")
    assert sign_in_post(client, "alice", DEFAULT_PASSWORD).status_code == 302


def test_one_address_gets_twenty_failures_a_minute_across_accounts(client):
    users = [UserFactory() for _ in range(11)]
    for user in users[:10]:
        sign_in_post(client, user.username, "wrong")
        sign_in_post(client, user.username, "wrong")
    # 20 failures from this address: the 21st attempt is refused whatever account it names ...
    response = sign_in_post(client, users[10].username, DEFAULT_PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not signed_in(client)
    # ... while the same account signs in from another address.
    assert (
        sign_in_post(client, users[10].username, DEFAULT_PASSWORD, ip="198.51.100.9").status_code
        == 302
    )


def test_a_flood_of_sign_ins_gets_the_429_page_in_the_dashboard_layout(client):
    statuses = [sign_in_post(client, f"ghost{n}", "x").status_code for n in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    page = sign_in_post(client, "ghost", "x")
    assert page.status_code == 429
    html = page.content.decode()
    assert "Too many requests" in html and "css/app.css" in html


def test_a_flood_of_sign_ups_gets_429_and_creates_nothing_more(client, django_user_model):
    def sign_up(n):
        return client.post(
            reverse("account_signup"),
            {
                "username": f"bot{n}",
                "email": f"bot{n}@example.com",
                "password1": "s3cure-enough-pass",
                "password2": "s3cure-enough-pass",
            },
            REMOTE_ADDR="203.0.113.50",
        )

    statuses = [sign_up(n).status_code for n in range(21)]
    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429
    assert django_user_model.objects.count() == 20


def test_password_reset_requests_are_limited_per_address(client):
    UserFactory(email="victim@example.com")
    answers = [
        client.post(
            reverse("account_reset_password"),
            {"email": f"someone{n}@example.com"},
            REMOTE_ADDR="203.0.113.60",
        ).status_code
        for n in range(21)
    ]
    assert answers[:20] == [302] * 20
    assert answers[20] == 429


def test_a_password_reset_lifts_the_lock(client):
    import re

    from django.core import mail

    UserFactory(username="alice", email="alice@example.com")
    for _ in range(5):
        sign_in_post(client, "alice", "wrong")
    assert LOCKED in sign_in_post(client, "alice", DEFAULT_PASSWORD).content.decode()

    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"password1": "reset-pass-9876", "password2": "reset-pass-9876"})

    response = sign_in_post(client, "alice", "reset-pass-9876")
    assert response.status_code == 302
    assert signed_in(client)

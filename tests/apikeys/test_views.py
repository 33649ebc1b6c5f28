"""The API Keys dashboard page (K5-K8, K11-K14, K16-K19), rendered server-side."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apikeys.models import APIKey
from tests.factories import APIKeyFactory

LIST = reverse("apikeys:list")
CREATE = reverse("apikeys:create")

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [key.name for key in response.context["keys"]]


def create(client, **data):
    payload = {"name": "Deploy bot", "scopes": ["geo:read"], "expiration": "90d"} | data
    return client.post(CREATE, payload)


def revoke_url(api_key) -> str:
    return reverse("apikeys:revoke", args=[api_key.pk])


def test_login_required(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_create_shows_full_key_once_with_copy_and_warning(logged_in_client, user):
    response = create(logged_in_client, scopes=["geo:read", "stats:read"])
    assert response.status_code == 200
    html = response.content.decode()
    key = response.context["created_key"]
    assert key.startswith("2xt_") and key in html
    assert "Your New API Key" in html
    assert "never be shown again" in html
    assert "password manager" in html and "secrets vault" in html
    assert "data-copy" in html and ">Copy<" in html
    assert "no-store" in response["Cache-Control"]
    api_key = APIKey.objects.get(owner=user)
    assert api_key.scope_list == ["geo:read", "stats:read"]
    # Reloading the list never shows it again: only the display prefix remains.
    again = logged_in_client.get(LIST).content.decode()
    assert key not in again
    assert f"{api_key.display_prefix}..." in again


def test_create_dialog_explains_scope_independence_and_groups(logged_in_client):
    html = logged_in_client.get(LIST).content.decode()
    assert "write does not include read" in html
    for group in ("Proxies", "Statistics", "Billing"):
        assert f"<h4>{group}</h4>" in html
    assert re.search(r'<option value="90d"\s+selected>90 days</option>', html)
    for label in ("30 days", "6 months", "1 year", "No expiration"):
        assert label in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "   "}, "This field is required"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"scopes": []}, "Choose at least one permission"),
        ({"scopes": ["geo:read", "admin:all"]}, "not one of the available choices"),
        ({"expiration": "forever"}, "not one of the available choices"),
    ],
)
def test_invalid_create_shows_the_error_and_writes_nothing(logged_in_client, data, message):
    response = create(logged_in_client, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not APIKey.objects.exists()
    assert "created_key" not in response.context


def test_create_at_the_limit_is_refused_with_a_message(logged_in_client, user):
    APIKeyFactory.create_batch(10, owner=user)
    page = logged_in_client.get(LIST)
    html = page.content.decode()
    assert page.context["limit_reached"]
    assert re.search(r"<button[^>]*disabled[^>]*>Create API Key</button>", html)
    assert "limit of 10 active keys" in html
    response = create(logged_in_client)
    assert response.status_code == 400
    assert "maximum" in response.content.decode()
    assert APIKey.objects.filter(owner=user).count() == 10


def test_create_page_without_javascript(logged_in_client):
    response = logged_in_client.get(CREATE)
    assert response.status_code == 200
    assert 'name="scopes"' in response.content.decode()


def test_create_form_requires_csrf(client, user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    response = csrf_client.post(CREATE, {"name": "x", "scopes": ["geo:read"], "expiration": "90d"})
    assert response.status_code == 403
    assert not APIKey.objects.exists()


def test_table_lists_only_own_unrevoked_keys_with_columns(logged_in_client, user, other_user):
    now = datetime.now(UTC)
    used = APIKeyFactory(owner=user, name="used", last_used_at=now - timedelta(hours=2))
    APIKeyFactory(owner=user, name="never-expires", expires_at=None)
    APIKeyFactory(owner=user, name="old", expired=True)
    APIKeyFactory(owner=user, name="gone", revoked=True)
    APIKeyFactory(owner=other_user, name="theirs")
    response = logged_in_client.get(LIST)
    assert sorted(names(response)) == ["never-expires", "old", "used"]
    html = response.content.decode()
    for column in ("Name", "Key", "Permissions", "Last used", "Expires", "Created"):
        assert f">{column}</a>" in html or f">{column} " in html
    assert "2 hours ago" in html.replace("\xa0", " ")
    assert used.last_used_at.strftime("%Y-%m-%d %H:%M:%S") in html  # exact time on hover
    assert "Never" in html
    assert ">Expired</span>" in html
    assert f"{used.display_prefix}..." in html
    assert '<span class="badge">geo:read</span>' in html


def test_search_is_case_insensitive_substring(logged_in_client, user):
    for name in ("Prod deploy", "staging", "PRODUCTION monitor"):
        APIKeyFactory(owner=user, name=name)
    response = logged_in_client.get(LIST, {"search": "prod"})
    assert sorted(names(response)) == ["PRODUCTION monitor", "Prod deploy"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["a", "b", "c"]),
        ("-name", ["c", "b", "a"]),
        ("created", ["c", "a", "b"]),
        ("-created", ["b", "a", "c"]),
        ("expires", ["a", "c", "b"]),
        ("-expires", ["b", "c", "a"]),
        ("last_used", ["c", "b", "a"]),
        ("-last_used", ["a", "b", "c"]),
    ],
)
def test_sort_by_column_and_reverse(logged_in_client, user, sort, expected):
    now = datetime.now(UTC)
    APIKeyFactory(
        owner=user,
        name="a",
        created_at=now - timedelta(days=2),
        expires_at=now + timedelta(days=1),
        last_used_at=now,
    )
    APIKeyFactory(
        owner=user,
        name="b",
        created_at=now - timedelta(days=1),
        expires_at=None,
        last_used_at=now - timedelta(days=1),
    )
    APIKeyFactory(
        owner=user,
        name="c",
        created_at=now - timedelta(days=3),
        expires_at=now + timedelta(days=5),
        last_used_at=None,
    )
    assert names(logged_in_client.get(LIST, {"sort": sort})) == expected


@pytest.mark.parametrize(
    "sort", ["password", "digest", "--name", "name;drop", "", "x" * 5000, "owner__password"]
)
def test_unknown_sort_is_ignored(logged_in_client, user, sort):
    now = datetime.now(UTC)
    APIKeyFactory(owner=user, name="older", created_at=now - timedelta(days=1))
    APIKeyFactory(owner=user, name="newer", created_at=now)
    response = logged_in_client.get(LIST, {"sort": sort})
    assert response.status_code == 200
    assert names(response) == ["newer", "older"]


def test_search_and_sort_combine_in_links(logged_in_client, user):
    for name in ("prod-b", "prod-a", "dev"):
        APIKeyFactory(owner=user, name=name)
    response = logged_in_client.get(LIST, {"search": "prod", "sort": "name"})
    assert names(response) == ["prod-a", "prod-b"]
    html = response.content.decode()
    assert (
        'href="/api-keys/?search=prod&amp;sort=-name"' in html
    )  # clicking again reverses, keeps search
    assert 'aria-sort="ascending"' in html


def test_huge_search_does_not_error(logged_in_client, user):
    APIKeyFactory(owner=user, name="k")
    assert logged_in_client.get(LIST, {"search": "x" * 10_000}).status_code == 200


def test_list_page_query_count_is_constant(logged_in_client, user, django_assert_num_queries):
    APIKeyFactory.create_batch(2, owner=user)
    # session, user, key list, active count
    with django_assert_num_queries(4):
        response = logged_in_client.get(LIST)
    assert response.status_code == 200
    assert len(names(response)) == 2
    APIKeyFactory.create_batch(8, owner=user)
    with django_assert_num_queries(4):
        response = logged_in_client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["keys"]) == 10
    assert response.content.decode().count("<tr data-key-id=") == 10


def test_revoke_confirmation_names_the_key(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="nightly export")
    response = logged_in_client.get(revoke_url(api_key))
    assert response.status_code == 200
    html = response.content.decode()
    assert "nightly export" in html and f"{api_key.display_prefix}..." in html
    assert APIKey.objects.get(pk=api_key.pk).revoked_at is None


def test_revoke_removes_row_keeps_record_and_kills_the_key(logged_in_client, user, api_client, geo):
    api_key = APIKeyFactory(owner=user, name="to revoke")
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key).status_code == 200
    response = logged_in_client.post(revoke_url(api_key), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "to revoke" not in names(response)
    assert "was revoked" in response.content.decode()
    row = APIKey.objects.get(pk=api_key.pk)
    assert row.revoked_at is not None and row.revoked_by == user
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key).status_code == 401


def test_another_accounts_key_is_404(logged_in_client, user, other_user):
    # The same request for one's own key is answered: the 404 is about the owner, not the URL.
    assert logged_in_client.get(revoke_url(APIKeyFactory(owner=user))).status_code == 200
    theirs = APIKeyFactory(owner=other_user)
    assert logged_in_client.get(revoke_url(theirs)).status_code == 404
    assert logged_in_client.post(revoke_url(theirs)).status_code == 404
    assert APIKey.objects.get(pk=theirs.pk).revoked_at is None


def test_revoked_key_cannot_be_revoked_again_or_shown(logged_in_client, user):
    gone = APIKeyFactory(owner=user, revoked=True)
    revoked_at = gone.revoked_at
    assert logged_in_client.get(revoke_url(APIKeyFactory(owner=user))).status_code == 200
    assert logged_in_client.get(revoke_url(gone)).status_code == 404
    assert logged_in_client.post(revoke_url(gone)).status_code == 404
    row = APIKey.objects.get(pk=gone.pk)
    assert (row.revoked_at, row.revoked_by) == (revoked_at, None)


def test_revoke_requires_post_for_changes(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="keep me")
    response = logged_in_client.get(revoke_url(api_key))
    assert response.status_code == 200
    assert "keep me" in response.content.decode()
    assert APIKey.objects.get(pk=api_key.pk).revoked_at is None
    # The POST to the same URL is what revokes it.
    assert logged_in_client.post(revoke_url(api_key))["Location"] == LIST
    assert APIKey.objects.get(pk=api_key.pk).revoked_at is not None


def test_resubmitting_the_same_create_form_makes_no_second_key(logged_in_client, user):
    form_html = logged_in_client.get(LIST).content.decode()
    token = re.search(r'name="submission" value="([0-9a-f]{32})"', form_html).group(1)
    first = create(logged_in_client, submission=token)
    assert first.context["created_key"]
    again = create(logged_in_client, submission=token)
    assert again.status_code == 302
    assert APIKey.objects.filter(owner=user).count() == 1
    follow = logged_in_client.get(again["Location"]).content.decode()
    assert "already submitted" in follow
    assert first.context["created_key"] not in follow


def test_each_rendered_form_gets_a_fresh_token(logged_in_client):
    tokens = {
        re.search(
            r'name="submission" value="([0-9a-f]{32})"', logged_in_client.get(LIST).content.decode()
        ).group(1)
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_sort_links_and_search_form_point_at_the_list_after_a_create(logged_in_client):
    html = create(logged_in_client).content.decode()
    assert 'action="/api-keys/"' in html
    assert 'href="/api-keys/?sort=name"' in html

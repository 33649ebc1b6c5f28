"""Staff oversight in Django admin (K24)."""

import pytest
from django.urls import reverse

from apikeys.models import APIKey
from tests.factories import APIKeyFactory, UserFactory

CHANGELIST = reverse("admin:apikeys_apikey_changelist")

pytestmark = pytest.mark.django_db


def listed(response) -> set[str]:
    return {key.name for key in response.context["cl"].result_list}


def test_staff_see_all_keys_without_digest(staff_client):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    a = APIKeyFactory(owner=alice, name="alice-key")
    APIKeyFactory(owner=bob, name="bob-key")
    response = staff_client.get(CHANGELIST)
    html = response.content.decode()
    assert listed(response) == {"alice-key", "bob-key"}
    assert a.digest not in html
    detail = staff_client.get(reverse("admin:apikeys_apikey_change", args=[a.pk])).content.decode()
    assert a.digest not in detail and a.display_prefix in detail


@pytest.mark.parametrize(("query", "expected"), [("alice", {"alice-key"}), ("bob-k", {"bob-key"})])
def test_search_by_name_and_owner(staff_client, query, expected):
    APIKeyFactory(owner=UserFactory(username="alice"), name="alice-key")
    APIKeyFactory(owner=UserFactory(username="bob"), name="bob-key")
    assert listed(staff_client.get(CHANGELIST, {"q": query})) == expected


def test_search_by_prefix(staff_client):
    key = APIKeyFactory(name="target")
    APIKeyFactory(name="other")
    assert "target" in listed(staff_client.get(CHANGELIST, {"q": key.display_prefix}))


@pytest.mark.parametrize(
    ("state", "expected"), [("active", {"live"}), ("expired", {"old"}), ("revoked", {"dead"})]
)
def test_filter_by_state(staff_client, state, expected):
    APIKeyFactory(name="live")
    APIKeyFactory(name="old", expired=True)
    APIKeyFactory(name="dead", revoked=True)
    assert listed(staff_client.get(CHANGELIST, {"state": state})) == expected


def test_filter_by_scope(staff_client):
    APIKeyFactory(name="writer", scopes="proxies:write")
    APIKeyFactory(name="reader", scopes="proxies:read geo:read")
    assert listed(staff_client.get(CHANGELIST, {"scope": "proxies:read"})) == {"reader"}


def test_bulk_revoke_action_records_staff_and_cannot_be_undone(staff_client):
    keys = APIKeyFactory.create_batch(3)
    already = APIKeyFactory(revoked=True)
    staff_client.post(
        CHANGELIST,
        {"action": "revoke_selected", "_selected_action": [k.pk for k in [*keys, already]]},
    )
    for key in keys:
        row = APIKey.objects.get(pk=key.pk)
        assert row.revoked_at is not None and row.revoked_by == staff_client.staff
    assert APIKey.objects.get(pk=already.pk).revoked_by is None


def test_admin_cannot_edit_add_or_delete_keys(staff_client):
    key = APIKeyFactory(name="fixed", scopes="geo:read", revoked=True)
    url = reverse("admin:apikeys_apikey_change", args=[key.pk])
    staff_client.post(url, {"name": "changed", "scopes": "proxies:write", "revoked_at": ""})
    row = APIKey.objects.get(pk=key.pk)
    assert (row.name, row.scopes) == ("fixed", "geo:read") and row.revoked_at is not None
    assert staff_client.get(reverse("admin:apikeys_apikey_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:apikeys_apikey_delete", args=[key.pk])).status_code == 403
    )


def test_non_staff_cannot_reach_admin(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302

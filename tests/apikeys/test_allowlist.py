"""K30: per-key IP allowlists — parsing what people type, storing it with the key, and the check
in the authentication path (one query, 403 `ip_not_allowed` naming the address, A13 for the
address)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from rest_framework.test import APIRequestFactory

from accounts.models import SecurityEvent
from apikeys import allowlist, services
from apikeys.authentication import APIKeyAuthentication
from apikeys.models import APIKey
from tests.envelope import assert_error

URL = "/v1/geo/countries?limit=1"


# --- Parsing (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "entries"),
    [
        ("", []),
        ("   \n ", []),
        ("203.0.113.7", ["203.0.113.7"]),
        ("203.0.113.7/32", ["203.0.113.7"]),
        ("203.0.113.0/24, 2001:db8::/32", ["203.0.113.0/24", "2001:db8::/32"]),
        ("2001:DB8:0:0::1", ["2001:db8::1"]),
        ("10.0.0.0/8;10.0.0.0/8\n10.0.0.0/8", ["10.0.0.0/8"]),
        ("192.0.2.1 198.51.100.0/24\t192.0.2.1", ["192.0.2.1", "198.51.100.0/24"]),
        (["203.0.113.0/24", "203.0.113.0/24"], ["203.0.113.0/24"]),
        ("0.0.0.0/0", ["0.0.0.0/0"]),
    ],
)
def test_entries_are_normalised_and_de_duplicated(typed, entries):
    assert allowlist.parse(typed) == entries


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("203.0.113.5/24", "203.0.113.5/24 has host bits set: did you mean 203.0.113.0/24?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("example.com", "example.com is not an IPv4 or IPv6 address or CIDR network."),
        ("300.1.1.1", "300.1.1.1 is not an IPv4"),
        ("203.0.113.0/33", "is not an IPv4"),
        ("1.2.3.4/-1", "is not an IPv4"),
    ],
)
def test_bad_entries_are_named(typed, message):
    with pytest.raises(allowlist.AllowlistError) as error:
        allowlist.parse(f"192.0.2.1, {typed}")
    assert any(message in text for text in error.value.messages), error.value.messages


def test_every_bad_entry_gets_its_own_message():
    with pytest.raises(allowlist.AllowlistError) as error:
        allowlist.parse("nope, 203.0.113.5/24, also-nope")
    assert len(error.value.messages) == 3


def test_at_most_100_entries():
    hundred = [f"10.0.{index}.0/24" for index in range(100)]
    assert len(allowlist.parse(hundred)) == 100
    with pytest.raises(allowlist.AllowlistError, match="At most 100 entries, not 101"):
        allowlist.parse([*hundred, "192.0.2.1"])


@pytest.mark.parametrize("value", [12, {"ip": "1.2.3.4"}, ["1.2.3.4", 5], "x" * 20_000])
def test_wrong_types_and_huge_input_are_refused(value):
    with pytest.raises(allowlist.AllowlistError):
        allowlist.parse(value)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("203.0.113.9", True),
        ("203.0.114.1", False),
        ("2001:db8:ffff::1", True),
        ("2001:db9::1", False),
        ("::ffff:203.0.113.9", True),  # an IPv4 client on a dual-stack socket
        ("192.0.2.1", True),
        ("not-an-address", False),
        ("?", False),
        ("", False),
    ],
)
def test_allows_checks_membership(address, allowed):
    text = allowlist.stored(allowlist.parse("203.0.113.0/24 2001:db8::/32 192.0.2.1"))
    assert allowlist.allows(text, address) is allowed


# --- Creating and keeping it ------------------------------------------------------------------


@pytest.mark.django_db
def test_create_stores_the_normalised_list(user):
    created = services.api_key_create(
        owner=user, name="ci", scopes=["geo:read"], allowed_ips="203.0.113.7/32, 2001:DB8::/32"
    )
    created.api_key.refresh_from_db()
    assert created.api_key.allowed_ips == "203.0.113.7 2001:db8::/32"
    (entry,) = SecurityEvent.objects.filter(event="key_created")
    assert entry.details["allowed_ips"] == ["203.0.113.7", "2001:db8::/32"]


@pytest.mark.django_db
def test_a_bad_allowlist_creates_nothing_and_names_the_field(user):
    with pytest.raises(ValidationError) as error:
        services.api_key_create(
            owner=user, name="", scopes=["geo:read"], allowed_ips="203.0.113.5/24"
        )
    assert set(error.value.message_dict) == {"name", "allowed_ips"}
    assert not APIKey.objects.exists()


@pytest.mark.django_db
def test_rotation_keeps_the_allowlist(user):
    old = services.api_key_create(
        owner=user, name="ci", scopes=["geo:read"], allowed_ips="203.0.113.0/24"
    ).api_key
    new = services.api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="1h").api_key
    assert new.allowed_ips == "203.0.113.0/24"


@pytest.mark.django_db
def test_update_changes_the_allowlist_and_logs_it(user):
    api_key = services.api_key_create(owner=user, name="ci", scopes=["geo:read"]).api_key
    services.api_key_update(owner_id=user.pk, key_id=api_key.pk, allowed_ips="192.0.2.0/24")
    services.api_key_update(owner_id=user.pk, key_id=api_key.pk, allowed_ips="192.0.2.0/24")
    api_key.refresh_from_db()
    assert api_key.allowed_ips == "192.0.2.0/24"
    (entry,) = SecurityEvent.objects.filter(event="key_allowlist_changed")  # one: no-op not logged
    assert (entry.details["old"], entry.details["new"]) == ("anywhere", "192.0.2.0/24")


@pytest.mark.django_db
def test_update_refuses_another_accounts_key(user, other_user):
    api_key = services.api_key_create(owner=other_user, name="ci", scopes=["geo:read"]).api_key
    with pytest.raises(APIKey.DoesNotExist):
        services.api_key_update(owner_id=user.pk, key_id=api_key.pk, allowed_ips="192.0.2.1")
    api_key.refresh_from_db()
    assert api_key.allowed_ips == ""


# --- Enforcement ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote", "status"), [("203.0.113.9", 200), ("198.51.100.7", 403), ("::1", 403)]
)
def test_the_api_answers_only_allowed_addresses(api_client, make_key, geo, remote, status):
    api_key = make_key(allowed_ips="203.0.113.0/24")
    response = api_client.get(URL, HTTP_X_API_KEY=api_key.key, REMOTE_ADDR=remote)
    if status == 200:
        assert response.status_code == 200
        return
    body = assert_error(response, 403, "ip_not_allowed")
    assert remote in body["error"]


@pytest.mark.django_db
def test_a_key_without_an_allowlist_works_from_anywhere(api_client, make_key, geo):
    api_key = make_key()
    for remote in ("198.51.100.7", "2001:db8::1"):
        assert (
            api_client.get(URL, HTTP_X_API_KEY=api_key.key, REMOTE_ADDR=remote).status_code == 200
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("num_proxies", "status"), [(0, 403), (1, 200)])
def test_the_address_follows_a13(api_client, make_key, geo, settings, num_proxies, status):
    """Behind NUM_PROXIES proxies the forwarded address counts; without, a client's own
    X-Forwarded-For cannot talk its way onto the allowlist."""
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"NUM_PROXIES": num_proxies}
    api_key = make_key(allowed_ips="203.0.113.0/24")
    response = api_client.get(
        URL,
        HTTP_X_API_KEY=api_key.key,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == status


@pytest.mark.django_db
def test_the_check_costs_no_extra_query(make_key, django_assert_num_queries):
    api_key = make_key(allowed_ips="203.0.113.0/24", last_used_at=datetime.now(UTC))
    allowed = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key, REMOTE_ADDR="203.0.113.9")
    with django_assert_num_queries(1):
        APIKeyAuthentication().authenticate(allowed)


@pytest.mark.django_db
def test_a_changed_allowlist_applies_to_the_next_request(api_client, make_key, geo, user):
    api_key = make_key(allowed_ips="203.0.113.0/24")
    request = {"HTTP_X_API_KEY": api_key.key, "REMOTE_ADDR": "198.51.100.7"}
    assert api_client.get(URL, **request).status_code == 403
    services.api_key_update(owner_id=user.pk, key_id=api_key.pk, allowed_ips="198.51.100.0/24")
    assert api_client.get(URL, **request).status_code == 200


# --- Dashboard and command --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_create_form_takes_an_allowlist(logged_in_client):
    response = logged_in_client.post(
        "/api-keys/new/",
        {"name": "ci", "scopes": ["geo:read"], "expiration": "90d", "allowed_ips": "2001:DB8::/32"},
    )
    assert response.status_code == 200
    assert APIKey.objects.get().allowed_ips == "2001:db8::/32"


@pytest.mark.django_db
def test_the_create_form_shows_allowlist_errors_and_creates_nothing(logged_in_client):
    response = logged_in_client.post(
        "/api-keys/new/",
        {"name": "ci", "scopes": ["geo:read"], "expiration": "90d", "allowed_ips": "10.1.2.3/8"},
    )
    assert response.status_code == 400
    assert "did you mean 10.0.0.0/8?" in response.content.decode()
    assert response.context["form"].errors["allowed_ips"]
    assert not APIKey.objects.exists()


@pytest.mark.django_db
def test_the_command_takes_an_allowlist(user, capsys):
    call_command(
        "create_api_key",
        "--user-id",
        str(user.pk),
        "--name",
        "ci",
        "--scopes",
        "geo:read",
        "--allowed-ips",
        "203.0.113.0/24,2001:db8::/32",
    )
    out = capsys.readouterr().out
    assert "allowed from: 203.0.113.0/24,2001:db8::/32" in out
    assert APIKey.objects.get().allowed_ips == "203.0.113.0/24 2001:db8::/32"


@pytest.mark.django_db
def test_the_command_names_bad_entries(user):
    with pytest.raises(CommandError, match=r"--allowed-ips: .*did you mean 203.0.113.0/24\?"):
        call_command(
            "create_api_key",
            "--user-id",
            str(user.pk),
            "--name",
            "ci",
            "--scopes",
            "geo:read",
            "--allowed-ips",
            "203.0.113.5/24",
        )
    assert not APIKey.objects.exists()

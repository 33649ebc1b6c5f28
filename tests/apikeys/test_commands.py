"""Operator commands: create_api_key, revoke_api_key (seed_demo: tests/demo)."""

import io

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command

from apikeys import crypto
from apikeys.models import APIKey
from tests.factories import APIKeyFactory, UserFactory
from tests.manage_process import migrated_sqlite_env, run_manage

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_the_key_as_last_line(user, settings):
    output = run(
        "create_api_key",
        "--user",
        user.username,
        "--name",
        "CI",
        "--scopes",
        "geo:read,stats:read",
        "--expires",
        "never",
    )
    key = output.strip().splitlines()[-1]
    assert crypto.is_well_formed(key, settings.API_KEY_PREFIX)
    api_key = APIKey.objects.get(digest=crypto.digest(key, settings.API_KEY_SECRET))
    assert (api_key.owner, api_key.name, api_key.scopes, api_key.expires_at) == (
        user,
        "CI",
        "geo:read stats:read",
        None,
    )


def create_for(user, **options) -> tuple[str, str]:
    """Run create_api_key for `user`; (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key",
        "--user-id",
        str(user.pk),
        "--name",
        "Deploy bot",
        "--scopes",
        "geo:read,stats:read",
        "--allowed-ips",
        "203.0.113.0/24",
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue(), err.getvalue()


def test_create_api_key_emails_the_owner_without_the_key(user):
    # K29: a key made on the account by an operator is news to its owner as well.
    output, errors = create_for(user)

    key = output.strip().splitlines()[-1]
    api_key = APIKey.objects.get(owner=user)
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "Deploy bot" in message.subject
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert api_key.display_prefix in body
        assert "geo:read, stats:read" in body
        assert "203.0.113.0/24" in body
        assert "command line" in body
        assert key.removeprefix(settings.API_KEY_PREFIX) not in body
    assert key not in message.subject
    assert errors == ""


def test_create_api_key_prints_the_key_when_the_owner_cannot_be_emailed(user, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)

    output, errors = create_for(user)

    key = output.strip().splitlines()[-1]
    assert APIKey.objects.get(owner=user).digest == crypto.digest(key, settings.API_KEY_SECRET)
    assert "could not be e-mailed" in errors
    assert key not in errors


def test_create_api_key_for_an_owner_without_an_address_says_so(db):
    owner = UserFactory(email="")

    output, errors = create_for(owner)
    assert output.strip().splitlines()[-1].startswith(settings.API_KEY_PREFIX)

    assert APIKey.objects.filter(owner=owner).count() == 1
    assert mail.outbox == []
    assert "could not be e-mailed" in errors


def test_create_api_key_accepts_email_and_defaults_to_90_days(user):
    run("create_api_key", "--user", user.email, "--name", "CI", "--scopes", "geo:read")
    assert APIKey.objects.get(owner=user).expiration == "90d"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody", "--name", "x", "--scopes", "geo:read"], "No user"),
        (["--name", "x", "--scopes", "geo:nope"], "Unknown scope"),
        (["--name", "x", "--scopes", ""], "at least one"),
        (["--name", "", "--scopes", "geo:read"], "Name is required"),
        (["--name", "x", "--scopes", "geo:read", "--expires", "2y"], "--expires"),
    ],
)
def test_create_api_key_bad_input_exits_with_one_line(user, args, message):
    if "--user" not in args:
        args = ["--user", user.username, *args]
    with pytest.raises(CommandError) as error:
        run("create_api_key", *args)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not APIKey.objects.exists()


def test_create_api_key_refuses_at_the_limit(user):
    APIKeyFactory.create_batch(10, owner=user)
    with pytest.raises(CommandError, match="maximum"):
        run("create_api_key", "--user", user.username, "--name", "x", "--scopes", "geo:read")


def test_create_api_key_failure_exits_non_zero_with_one_line_on_stderr(tmp_path):
    env = migrated_sqlite_env(tmp_path)
    result = run_manage(
        "create_api_key", "--user", "ghost", "--name", "x", "--scopes", "geo:read", env=env
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: No user 'ghost'."
    assert "2xt_" not in result.stdout


def test_revoke_api_key_by_full_value(user):
    api_key = APIKeyFactory(owner=user)
    assert "Revoked" in run("revoke_api_key", api_key.key)
    assert APIKey.objects.get(pk=api_key.pk).revoked_at is not None


@pytest.mark.parametrize("value", ["garbage", "2xt_" + "a" * 36])
def test_revoke_api_key_unknown(value):
    with pytest.raises(CommandError, match="No such API key"):
        run("revoke_api_key", value)


def test_create_api_key_by_user_id(user):
    run("create_api_key", "--user-id", str(user.pk), "--name", "CI", "--scopes", "geo:read")
    assert APIKey.objects.get().owner == user


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user-id", "999999"], "No user with id 999999"),
        (["--user", "alice"], "matches more than one account"),
    ],
)
def test_create_api_key_refuses_unknown_ids_and_ambiguous_names(args, message):
    UserFactory(username="alice", email="alice@example.com")
    UserFactory(username="other", email="alice")  # an address spelled like alice's username
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args, "--name", "CI", "--scopes", "geo:read")
    assert not APIKey.objects.exists()


def test_create_api_key_takes_one_of_user_or_user_id(user):
    with pytest.raises(CommandError, match="not allowed with argument"):
        run(
            "create_api_key",
            "--user",
            user.username,
            "--user-id",
            str(user.pk),
            "--name",
            "CI",
            "--scopes",
            "geo:read",
        )
    with pytest.raises(CommandError, match="one of the arguments --user --user-id is required"):
        run("create_api_key", "--name", "CI", "--scopes", "geo:read")


def test_revoke_api_key_reads_the_key_from_stdin(user, monkeypatch):
    api_key = APIKeyFactory(owner=user)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(api_key.key + "\n"))
    call_command("revoke_api_key", "-", stdout=out)
    assert "Revoked" in out.getvalue()
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


@pytest.mark.parametrize("stdin", ["", "\n", "2xt_" + "A" * 5000, "not a key"])
def test_revoke_api_key_from_stdin_refuses_junk(stdin, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(CommandError, match="No such API key"):
        call_command("revoke_api_key", "-", stdout=io.StringIO())


def test_revoke_api_key_from_stdin_in_its_own_process(tmp_path):
    env = migrated_sqlite_env(tmp_path)
    created = run_manage(
        "shell",
        "-c",
        "from tests.factories import APIKeyFactory; print(APIKeyFactory().key)",
        env=env,
    )
    key = created.stdout.strip().splitlines()[-1]
    result = run_manage("revoke_api_key", "-", env=env, stdin=key + "\n")
    assert result.returncode == 0, result.stderr
    assert "Revoked" in result.stdout
    assert key not in result.stdout + result.stderr

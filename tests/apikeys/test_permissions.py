"""Deny-by-default scope checks (K1, K3, K4, K21)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIRequestFactory

from api.views import PublicAPIView
from apikeys.authentication import APIKeyOwner, APIKeyPrincipal
from apikeys.checks import check_scope_declarations
from apikeys.permissions import HasScope, InsufficientScope, scope_declaration_errors
from tests.envelope import assert_error


def principal(*scopes: str) -> APIKeyPrincipal:
    return APIKeyPrincipal(
        key_id=1, owner_id=1, scopes=frozenset(scopes), expires_at=None, rate_limit_id="x"
    )


def check(view_class, method: str, *scopes: str) -> bool:
    request = getattr(APIRequestFactory(), method.lower())("/v1/x")
    drf_request = view_class().initialize_request(request)
    drf_request.user, drf_request.auth = APIKeyOwner(1), principal(*scopes)
    drf_request.method = method
    view = view_class()
    view.setup(request)
    return HasScope().has_permission(drf_request, view)


class ProxyListView(PublicAPIView):
    required_scopes = {"GET": "proxies:read", "POST": "proxies:write"}

    def get(self, request): ...

    def post(self, request): ...


class PlansView(PublicAPIView):
    required_scopes = {"GET": ("proxies:read", "proxies:write", "balance:read")}

    def get(self, request): ...


class ForgetfulView(PublicAPIView):
    required_scopes = {"GET": "geo:read"}

    def get(self, request): ...

    def delete(self, request): ...


def test_write_scope_does_not_imply_read():
    with pytest.raises(InsufficientScope) as error:
        check(ProxyListView, "GET", "proxies:write")
    assert "proxies:read" in str(error.value.detail)
    assert check(ProxyListView, "POST", "proxies:write")


def test_read_scope_does_not_imply_write():
    with pytest.raises(InsufficientScope, match="proxies:write"):
        check(ProxyListView, "POST", "proxies:read")


def test_head_uses_the_get_declaration():
    assert check(ProxyListView, "HEAD", "proxies:read")
    with pytest.raises(InsufficientScope):
        check(ProxyListView, "HEAD", "geo:read")


@pytest.mark.parametrize("scope", ["proxies:read", "proxies:write", "balance:read"])
def test_any_of_declaration_accepts_each_alternative(scope):
    assert check(PlansView, "GET", scope)


@pytest.mark.parametrize("scope", ["geo:read", "stats:read"])
def test_any_of_declaration_rejects_others_and_names_the_alternatives(scope):
    with pytest.raises(InsufficientScope) as error:
        check(PlansView, "GET", scope)
    assert error.value.required_scopes == ("proxies:read", "proxies:write", "balance:read")


def test_served_method_without_declaration_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="DELETE"):
        check(ForgetfulView, "DELETE", "geo:read", "proxies:write", "proxies:read")


def test_declaration_problems_are_reported():
    class Typo(PublicAPIView):
        required_scopes = {"GET": "geo:raed"}

        def get(self, request): ...

    assert scope_declaration_errors(ForgetfulView) == [
        "ForgetfulView serves DELETE but declares no required scope."
    ]
    assert "unknown scope" in scope_declaration_errors(Typo)[0]
    assert scope_declaration_errors(ProxyListView) == []


def test_every_routed_api_view_declares_its_scopes():
    assert check_scope_declarations() == []


@pytest.mark.urls("tests.apikeys.urls_undeclared")
def test_system_check_flags_a_routed_view_without_declaration():
    errors = check_scope_declarations()
    assert [e.id for e in errors] == ["apikeys.E001"]
    assert "DELETE" in errors[0].msg


@pytest.mark.django_db
@pytest.mark.urls("tests.apikeys.urls_undeclared")
def test_undeclared_method_answers_500_internal_error_never_allows(api_client, make_key):
    key = make_key(scopes="geo:read proxies:read proxies:write stats:read balance:read").key
    assert_error(api_client.delete("/v1/forgetful", HTTP_X_API_KEY=key), 500, "internal_error")
    assert api_client.get("/v1/forgetful", HTTP_X_API_KEY=key).status_code == 200


@pytest.mark.django_db
def test_wrong_scope_is_403_naming_the_scope(api_client, make_key):
    key = make_key(scopes="proxies:read proxies:write stats:read balance:read").key
    response = api_client.get("/v1/geo/countries", HTTP_X_API_KEY=key)
    body = assert_error(response, 403, "insufficient_scope")
    assert "geo:read" in body["error"]
    assert body["meta"]["required_scopes"] == ["geo:read"]

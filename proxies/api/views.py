"""Proxy endpoints: /v1/proxy (list, create) and /v1/proxy/{id} (get, update, delete).

Every read and write is scoped to the key's account; another account's id, a deleted proxy and
an id that cannot exist are all 404 `not_found` (A8), so ids reveal nothing.
"""

import hashlib
import json
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from api.envelope import APIResponse
from api.params import paginate, query_params
from api.schema import ErrorEnvelopeSerializer, enveloped
from api.views import PublicAPIView
from apikeys.scopes import PROXIES_READ, PROXIES_WRITE
from common.dates import current_month

from .. import inputs, selectors, services
from . import serializers as s

IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"},
    OpenApiParameter.HEADER,
    required=False,
    description="Any string of 1-255 printable characters, kept 24 hours per account. A retry "
    "with the same key and body replays the first answer (header `Idempotent-Replayed: true`) "
    "and creates nothing; the same key with a different body is refused with 409 "
    "`idempotency_conflict`.",
)


class IdempotencyConflictError(exceptions.APIException):
    status_code = 409
    error_type = "idempotency_conflict"
    default_detail = (
        "This Idempotency-Key was already used with a different request body. Use a new key "
        "for a new request."
    )


def _idempotency_key(request) -> str | None:
    """The request's Idempotency-Key (A15), None when absent; 400 when it is malformed."""
    value = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if value is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["Send 1-255 printable ASCII characters."]}
        )
    return value


def _request_hash(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


ALLOW_EVERYONE_WARNING = (
    "The IP whitelist allows every address (0.0.0.0/0 or ::/0): anyone who has the proxy's "
    "credentials can use it from anywhere."
)

PROXY_ID = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The proxy's short opaque id, e.g. 86Rf07.",
)


def _proxy_output(*, owner_id: int, public_id: str, period: tuple, current: bool = False) -> dict:
    """One proxy as the API shows it; `current` first applies due limit resets (for reads; a
    write has just re-derived the status)."""
    get = services.proxy_get_current if current else selectors.proxy_get
    proxy = get(owner_id=owner_id, public_id=public_id, date_from=period[0], date_to=period[1])
    return s.ProxyOutputSerializer(proxy, context={"period": period}).data


def _proxy_response(data: dict, **kwargs) -> APIResponse:
    """One proxy, with `meta.warnings` when its whitelist admits every address."""
    meta = {}
    if inputs.whitelist_allows_everyone(data["ip_whitelist"]):
        meta["warnings"] = [ALLOW_EVERYONE_WARNING]
    return APIResponse(data, meta=meta, **kwargs)


class ProxyListAPIView(PublicAPIView):
    """The account's proxies with their traffic in a period; and creating a proxy."""

    required_scopes = {"GET": PROXIES_READ, "POST": PROXIES_WRITE}

    @extend_schema(
        operation_id="proxy_list",
        summary="List proxies",
        description="Filter by `status` and `search`, sort by `order_by`, page per `limit`/`page`. "
        "`traffic_used` and `total_spent` cover `statistic_from`..`statistic_to` "
        "(default: the current UTC month).",
        parameters=[s.ProxyListParamsSerializer],
        responses=enveloped(s.ProxyOutputSerializer, many=True),
    )
    def get(self, request):
        params = query_params(s.ProxyListParamsSerializer, request)
        owner_id = request.user.pk
        period = (params["statistic_from"], params["statistic_to"])
        queryset = services.proxy_list_current(
            owner_id=owner_id,
            date_from=period[0],
            date_to=period[1],
            statuses=params["status"],
            search=params["search"],
        )
        items, meta = paginate(
            queryset, params, order_field=selectors.ORDER_FIELDS[params["order_by"]]
        )
        data = s.ProxyOutputSerializer(items, many=True, context={"period": period}).data
        return APIResponse(data, meta=meta)

    @extend_schema(
        operation_id="proxy_create",
        summary="Create a proxy",
        description="Unknown fields and wrong JSON types are refused; nothing is written then.",
        request=s.ProxyCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(
                enveloped(s.ProxyOutputSerializer),
                description="The new proxy (for a replayed Idempotency-Key, the one created "
                "first). Its `data.id` is the `id` of the operations linked below.",
            ),
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`idempotency_conflict`: the Idempotency-Key was used for another body.",
            ),
        },
    )
    def post(self, request):
        idempotency_key = _idempotency_key(request)
        serializer = s.ProxyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner_id = request.user.pk
        if idempotency_key is None:
            proxy = services.proxy_create(
                owner_id=owner_id, data=inputs.proxy_create_input(serializer.validated_data)
            )
            data = _proxy_output(
                owner_id=owner_id, public_id=proxy.public_id, period=current_month()
            )
            return _proxy_response(data, status=201)

        def render(proxy) -> str:
            # Stored as the client saw it, so a replay is the same JSON to the byte.
            data = _proxy_output(
                owner_id=owner_id, public_id=proxy.public_id, period=current_month()
            )
            return JSONRenderer().render(data).decode()

        try:
            result = services.proxy_create_idempotent(
                owner_id=owner_id,
                idempotency_key=idempotency_key,
                request_hash=_request_hash(request.data),
                fields=serializer.validated_data,
                render=render,
            )
        except services.IdempotencyConflict:
            raise IdempotencyConflictError() from None
        response = _proxy_response(json.loads(result.response), status=result.status_code)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class ProxyDetailAPIView(PublicAPIView):
    """One proxy of the account: read, change, delete."""

    required_scopes = {"GET": PROXIES_READ, "PUT": PROXIES_WRITE, "DELETE": PROXIES_WRITE}

    @extend_schema(
        operation_id="proxy_get",
        summary="Get a proxy",
        parameters=[PROXY_ID, s.StatisticPeriodParamsSerializer],
        responses=enveloped(s.ProxyOutputSerializer),
    )
    def get(self, request, id: str):
        params = query_params(s.StatisticPeriodParamsSerializer, request)
        period = (params["statistic_from"], params["statistic_to"])
        return _proxy_response(
            _proxy_output(owner_id=request.user.pk, public_id=id, period=period, current=True)
        )

    @extend_schema(
        operation_id="proxy_update",
        summary="Change a proxy",
        description="Send only what changes: `description`, `countries`, `ip_whitelist`, "
        "`limits` (null removes the limit), `status` (`active`/`inactive`). "
        "`name`, `proxy_type` and `tariff_id` cannot change.",
        parameters=[PROXY_ID],
        request=s.ProxyUpdateInputSerializer,
        responses=enveloped(s.ProxyOutputSerializer),
    )
    def put(self, request, id: str):
        proxy = selectors.proxy_get_without_usage(owner_id=request.user.pk, public_id=id)
        serializer = s.ProxyUpdateInputSerializer(data=request.data, context={"proxy": proxy})
        serializer.is_valid(raise_exception=True)
        services.proxy_update(
            proxy=proxy, changes=inputs.proxy_update_input(serializer.validated_data)
        )
        return _proxy_response(
            _proxy_output(owner_id=request.user.pk, public_id=id, period=current_month())
        )

    @extend_schema(
        operation_id="proxy_delete",
        summary="Delete a proxy",
        description="The proxy stops working at once; its usage and charges stay in the "
        "statistics and the ledger.",
        parameters=[PROXY_ID],
        responses={200: s.DeletedEnvelopeSerializer},
    )
    def delete(self, request, id: str):
        proxy = selectors.proxy_get_without_usage(owner_id=request.user.pk, public_id=id)
        services.proxy_delete(proxy=proxy)
        return APIResponse(None)

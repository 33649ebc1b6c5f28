"""Statistics endpoints: /v1/user/traffic and the per-proxy CSV export (scope stats:read)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from api.envelope import APIResponse
from api.params import DateRangeParamsSerializer, query_params
from api.schema import enveloped
from api.views import PublicAPIView
from apikeys.scopes import STATS_READ
from proxies.selectors import proxy_name_get

from .. import selectors
from ..exports import usage_export_response
from . import serializers as s


class UserTrafficAPIView(PublicAPIView):
    """The account's traffic per day over a range, with totals."""

    required_scopes = {"GET": STATS_READ}

    @extend_schema(
        operation_id="user_traffic",
        summary="Account traffic per day",
        description="Totals over every proxy of the account (deleted ones included) and one "
        "entry per day of the range. At most 366 days.",
        parameters=[DateRangeParamsSerializer],
        responses=enveloped(s.UserTrafficOutputSerializer),
    )
    def get(self, request):
        params = query_params(DateRangeParamsSerializer, request)
        series = selectors.account_traffic(owner_id=request.user.pk, **params)
        data = {**params, "totals": selectors.totals(series), "days": series}
        return APIResponse(s.UserTrafficOutputSerializer(data).data)


class ProxyUsageExportAPIView(PublicAPIView):
    """One proxy's daily usage as a streamed CSV download.  Errors stay JSON envelopes."""

    required_scopes = {"GET": STATS_READ}

    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever the client accepts; `Accept: text/csv` must not be a 406.  Error
        # bodies go through the envelope renderer.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="proxy_usage_export",
        summary="Export a proxy's daily usage (CSV)",
        description="A `text/csv` attachment with the header `date,traffic_bytes,requests,cost_usd` "
        "and one row per day of the range, days without traffic included. Streamed; at most "
        f"{s.MAX_EXPORT_DAYS} days.",
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The proxy's short opaque id, e.g. 86Rf07.",
            ),
            s.UsageExportParamsSerializer,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="`date,traffic_bytes,requests,cost_usd`, e.g. "
                "`2026-01-31,1048576,120,0.52`.",
            )
        },
    )
    def get(self, request, id: str):
        params = query_params(s.UsageExportParamsSerializer, request)
        proxy = proxy_name_get(owner_id=request.user.pk, public_id=id)
        return usage_export_response(
            proxy=proxy, date_from=params["date_from"], date_to=params["date_to"]
        )

"""Billing endpoints: balance, ledger history (scope balance:read) and plans (K4)."""

from drf_spectacular.utils import extend_schema

from api.envelope import APIResponse
from api.params import paginate, query_params
from api.schema import enveloped
from api.views import PublicAPIView
from apikeys.scopes import BALANCE_READ, PROXIES_READ, PROXIES_WRITE

from .. import selectors
from . import serializers as s


class UserBalanceAPIView(PublicAPIView):
    """The account's funds available."""

    required_scopes = {"GET": BALANCE_READ}

    @extend_schema(
        operation_id="user_balance",
        summary="Balance",
        responses=enveloped(s.BalanceOutputSerializer),
    )
    def get(self, request):
        funds = selectors.balance_get(owner_id=request.user.pk)
        return APIResponse(s.BalanceOutputSerializer({"funds_available": funds}).data)


class BalanceHistoryListAPIView(PublicAPIView):
    """The account's ledger entries (top-ups, charges, refunds) created in a range of days."""

    required_scopes = {"GET": BALANCE_READ}

    @extend_schema(
        operation_id="user_balance_history",
        summary="Balance history",
        description="Ledger entries created on the UTC days `date_from`..`date_to`, sorted by "
        "`created_at` (`order`, default newest first).",
        parameters=[s.BalanceHistoryParamsSerializer],
        responses=enveloped(s.TransactionOutputSerializer, many=True),
    )
    def get(self, request):
        params = query_params(s.BalanceHistoryParamsSerializer, request)
        queryset = selectors.transaction_list(
            owner_id=request.user.pk, date_from=params["date_from"], date_to=params["date_to"]
        )
        items, meta = paginate(queryset, params, order_field="created_at")
        return APIResponse(s.TransactionOutputSerializer(items, many=True).data, meta=meta)


class PlanListAPIView(PublicAPIView):
    """Plans of one proxy type, cheapest first."""

    # K4: whoever manages proxies or reads billing may see what plans cost.
    required_scopes = {"GET": (PROXIES_READ, PROXIES_WRITE, BALANCE_READ)}

    @extend_schema(
        operation_id="plans_list",
        summary="List plans",
        parameters=[s.PlanParamsSerializer],
        responses=s.PlanListEnvelopeSerializer,
    )
    def get(self, request):
        params = query_params(s.PlanParamsSerializer, request)
        plans = list(selectors.plan_list(**params).order_by("price_per_gb", "pk"))
        return APIResponse(
            s.PlanOutputSerializer(plans, many=True).data, meta={"total": len(plans)}
        )

"""Staff oversight of plans, proxies, the ledger and usage in Django admin."""

import pytest
from django.urls import reverse

from billing.models import Plan, Transaction
from tests.factories import PlanFactory, ProxyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger_data(user, fund, record):
    fund(user, "50.00")
    proxy = ProxyFactory(owner=user, name="admin_seen")
    record(proxy, 2 * 10**9, 3)
    return proxy


@pytest.mark.parametrize(
    "name",
    [
        "billing_plan",
        "billing_transaction",
        "billing_balance",
        "proxies_proxy",
        "proxies_usagedaily",
        "proxies_accountusagedaily",
    ],
)
def test_changelists_render_for_staff(staff_client, ledger_data, name):
    response = staff_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_ledger_and_proxies_are_read_only(staff_client, ledger_data):
    entry = Transaction.objects.first()
    assert staff_client.get(reverse("admin:billing_transaction_add")).status_code == 403
    staff_client.post(
        reverse("admin:billing_transaction_change", args=[entry.pk]), {"amount": "999"}
    )
    entry.refresh_from_db()
    assert entry.amount != 999
    assert (
        staff_client.get(reverse("admin:proxies_proxy_delete", args=[ledger_data.pk])).status_code
        == 403
    )


def test_staff_can_edit_plans(staff_client):
    plan = PlanFactory(title="Old title")
    response = staff_client.post(
        reverse("admin:billing_plan_change", args=[plan.pk]),
        {
            "proxy_type": plan.proxy_type,
            "title": "New title",
            "description": "",
            "price_per_gb": "2.50",
            "currency": "USD",
            "enabled": "on",
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    assert Plan.objects.get(pk=plan.pk).title == "New title"

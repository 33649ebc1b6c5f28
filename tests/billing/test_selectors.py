"""Plan reads shared by the dashboard pages."""

from decimal import Decimal

import pytest

from billing.models import ProxyType
from billing.selectors import enabled_plans_by_type
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_enabled_plans_grouped_by_proxy_type_cheapest_first():
    pricey = PlanFactory(title="B", price_per_gb=Decimal("9.00"))
    cheap = PlanFactory(title="A", price_per_gb=Decimal("2.00"))
    same_price = PlanFactory(title="C", price_per_gb=Decimal("2.00"))
    PlanFactory(title="Off", price_per_gb=Decimal("1.00"), disabled=True)
    mobile = PlanFactory(mobile=True)
    assert enabled_plans_by_type() == [
        (ProxyType.RESIDENTIAL.label, [cheap, same_price, pricey]),
        (ProxyType.MOBILE.label, [mobile]),
    ]

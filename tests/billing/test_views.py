"""The Billing dashboard page (SPEC D4): balance, paged transaction history with a date range,
and the enabled plans per proxy type."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.services import balance_topup
from tests.factories import PlanFactory, ProxyFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("billing:overview")


def tx_ids(response) -> list[str]:
    return [tx.tx_id for tx in response.context["transactions"]]


def topups(owner, count: int, *, start: datetime) -> list:
    """`count` top-ups of $1, $2, ... one minute apart from `start`."""
    return [
        balance_topup(owner=owner, amount=str(n + 1), now=start + timedelta(minutes=n))
        for n in range(count)
    ]


def test_login_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_balance_and_transactions_of_the_account_only(
    logged_in_client, user, other_user, now, record
):
    plan = PlanFactory(price_per_gb=Decimal("4.00"))
    proxy = ProxyFactory(owner=user, plan=plan, name="shop_scraper")
    topup = balance_topup(owner=user, amount="25.00", description="Card payment", now=now)
    record(proxy, 10**9, 10)
    balance_topup(owner=other_user, amount="99.00", description="Not mine")

    response = logged_in_client.get(PAGE)
    assert response.status_code == 200
    assert response.context["balance"] == Decimal("21.00")
    html = response.content.decode()
    assert re.search(r'data-testid="balance"[^>]*>\$21\.00<', html)
    assert "Not mine" not in html
    table = re.search(r'data-testid="transactions-table">(.*?)</table>', html, re.S).group(1)
    assert table.count("<tr data-tx-id=") == 2
    assert "Card payment" in table and "+25.00 USD" in table and "Top-up" in table
    assert "Traffic of shop_scraper on" in table and "-4.00 USD" in table and "Charge" in table
    assert topup.tx_id in table


def test_new_account_has_zero_balance_and_an_empty_history(logged_in_client):
    response = logged_in_client.get(PAGE)
    assert response.context["balance"] == Decimal("0.00")
    assert "No transactions in this range." in response.content.decode()


def test_date_range_filters_transactions_by_utc_day(logged_in_client, user):
    balance_topup(
        owner=user, amount="1", description="Before", now=datetime(2026, 1, 31, 23, 59, tzinfo=UTC)
    )
    balance_topup(
        owner=user, amount="2", description="First", now=datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    )
    balance_topup(
        owner=user, amount="3", description="Last", now=datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
    )
    balance_topup(owner=user, amount="4", description="After", now=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))  # fmt: skip
    response = logged_in_client.get(PAGE, {"date_from": "2026-02-01", "date_to": "2026-02-28"})
    assert [tx.description for tx in response.context["transactions"]] == ["Last", "First"]
    # The balance is the account's, whatever the range.
    assert response.context["balance"] == Decimal("10.00")


def test_default_range_is_the_last_30_days(logged_in_client, user, now):
    balance_topup(owner=user, amount="1", description="Recent", now=now - timedelta(days=29))
    balance_topup(owner=user, amount="1", description="Old", now=now - timedelta(days=31))
    response = logged_in_client.get(PAGE)
    assert [tx.description for tx in response.context["transactions"]] == ["Recent"]


def test_history_pages_25_per_page_newest_first(logged_in_client, user, now):
    made = topups(user, 30, start=now - timedelta(hours=1))
    newest_first = [tx.tx_id for tx in reversed(made)]

    first = logged_in_client.get(PAGE)
    assert tx_ids(first) == newest_first[:25]
    html = first.content.decode()
    assert "1\u201325 of 30 transactions" in html
    assert "Page 1 of 2" in html
    today = now.date()
    query = f"date_from={(today - timedelta(days=29)).isoformat()}&amp;date_to={today.isoformat()}"
    assert f'href="?{query}&amp;page=2" rel="next"' in html
    assert 'rel="prev"' not in html

    second = logged_in_client.get(
        PAGE,
        {
            "date_from": (today - timedelta(days=29)).isoformat(),
            "date_to": today.isoformat(),
            "page": "2",
        },
    )
    assert tx_ids(second) == newest_first[25:]
    assert "26\u201330 of 30 transactions" in second.content.decode()
    assert 'rel="prev"' in second.content.decode()


@pytest.mark.parametrize(("page", "number"), [("0", 1), ("-1", 1), ("abc", 1), ("99", 2), ("", 1)])
def test_out_of_range_or_malformed_page_shows_the_nearest_page(
    logged_in_client, user, now, page, number
):
    topups(user, 26, start=now - timedelta(hours=1))
    response = logged_in_client.get(PAGE, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == number


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "on or after the start date"),
        ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "at most 366 days"),
        ({"date_from": "01/02/2026", "date_to": "2026-03-01"}, "Enter a date as YYYY-MM-DD."),
        ({"date_to": "2026-03-01"}, "This field is required."),
    ],
)
def test_invalid_range_shows_a_clear_error(logged_in_client, user, params, message):
    balance_topup(owner=user, amount="5")
    response = logged_in_client.get(PAGE, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert response.context["balance"] == Decimal("5.00")  # the rest of the page still works
    assert 'data-testid="transactions-table"' not in html


def test_plans_per_type_enabled_only(logged_in_client):
    PlanFactory(title="Residential Basic", price_per_gb=Decimal("4.00"), popular=True)
    PlanFactory(title="Residential Retired", enabled=False)
    PlanFactory(title="Mobile 5G", mobile=True, description="Carrier IPs")
    html = logged_in_client.get(PAGE).content.decode()
    residential = re.search(r'data-testid="plans-residential">(.*?)</table>', html, re.S).group(1)
    mobile = re.search(r'data-testid="plans-mobile">(.*?)</table>', html, re.S).group(1)
    assert "Residential Basic" in residential and "$4.00 USD" in residential
    assert "Popular" in residential
    assert "Residential Retired" not in html
    assert "Mobile 5G" in mobile and "Carrier IPs" in mobile and "$8.00 USD" in mobile
    assert "Mobile 5G" not in residential


def test_page_query_count_is_constant(logged_in_client, user, now, django_assert_num_queries):
    PlanFactory()
    PlanFactory(mobile=True)
    topups(user, 1, start=now - timedelta(hours=1))
    # session, user, balance, plans x2, transaction count, transaction page
    with django_assert_num_queries(7):
        response = logged_in_client.get(PAGE)
    assert response.status_code == 200
    assert len(tx_ids(response)) == 1
    topups(user, 40, start=now - timedelta(minutes=50))
    with django_assert_num_queries(7):
        response = logged_in_client.get(PAGE, {"page": "2"})
    assert response.status_code == 200
    assert len(response.context["transactions"]) == 16
    assert response.content.decode().count("<tr data-tx-id=") == 16

"""The Proxies dashboard pages (SPEC D2): list with search, status filter and sort; create; edit
limits, whitelist, countries and status; delete with confirmation; tenant isolation."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proxies.models import LimitPeriod, LimitType, Proxy, ProxyStatus, SuspensionReason
from tests.factories import PlanFactory, ProxyFactory, UsageDailyFactory

pytestmark = pytest.mark.django_db

LIST = reverse("proxies:list")
CREATE = reverse("proxies:create")
GB = 10**9
US, DE = 840, 276


def edit_url(proxy) -> str:
    return reverse("proxies:edit", args=[proxy.public_id])


def delete_url(proxy) -> str:
    return reverse("proxies:delete", args=[proxy.public_id])


def names(response) -> list[str]:
    return [row["proxy"].name for row in response.context["rows"]]


def create_payload(plan, /, **data) -> dict:
    payload = {
        "name": "shop_scraper",
        "proxy_type": "residential",
        "plan": str(plan.pk),
        "countries": [],
        "description": "",
        "ip_whitelist": "",
        "limit_type": "",
        "limit_period": "",
        "limit_total": "",
    }
    payload.update(data)
    return payload


def edit_payload(**data) -> dict:
    payload = {
        "status": "active",
        "description": "",
        "countries": [],
        "ip_whitelist": "",
        "limit_type": "",
        "limit_period": "",
        "limit_total": "",
    }
    payload.update(data)
    return payload


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["list", "create", "edit", "delete"])
def test_pages_require_login(client, method, page):
    proxy = ProxyFactory()
    url = {
        "list": LIST,
        "create": CREATE,
        "edit": edit_url(proxy),
        "delete": delete_url(proxy),
    }[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    proxy.refresh_from_db()
    assert proxy.deleted_at is None


@pytest.mark.parametrize(
    ("method", "page"),
    [("get", "edit"), ("post", "edit"), ("get", "delete"), ("post", "delete")],
)
def test_another_accounts_proxy_is_404(
    logged_in_client, user, other_user, make_proxy, method, page
):
    foreign = make_proxy(other_user, description="theirs")
    url = edit_url(foreign) if page == "edit" else delete_url(foreign)
    data = edit_payload(description="mine now") if method == "post" else None
    response = getattr(logged_in_client, method)(url, data)
    assert response.status_code == 404
    # The same request for one's own proxy is served: the 404 is the owner check, not the URL.
    own = make_proxy(user)
    own_url = edit_url(own) if page == "edit" else delete_url(own)
    own_response = getattr(logged_in_client, method)(own_url, data)
    assert own_response.status_code == (200 if method == "get" else 302)
    foreign.refresh_from_db()
    assert (foreign.description, foreign.deleted_at) == ("theirs", None)


def test_deleted_proxy_is_404(logged_in_client, user, make_proxy):
    proxy = make_proxy(user)
    assert logged_in_client.get(edit_url(proxy)).status_code == 200
    Proxy.objects.filter(pk=proxy.pk).update(deleted_at=timezone.now())
    assert logged_in_client.get(edit_url(proxy)).status_code == 404
    assert logged_in_client.post(delete_url(proxy)).status_code == 404


def test_forms_need_csrf_token(user, plan, make_proxy):
    proxy = make_proxy(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(CREATE, create_payload(plan, name="other")).status_code == 403
    assert client.post(edit_url(proxy), edit_payload(description="x")).status_code == 403
    assert client.post(delete_url(proxy)).status_code == 403
    assert Proxy.objects.alive().filter(owner=user).count() == 1
    html = client.get(CREATE).content.decode() + client.get(edit_url(proxy)).content.decode()
    assert html.count("csrfmiddlewaretoken") >= 3  # create form, edit form, delete dialog


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_columns_with_this_months_usage(logged_in_client, funded, plan, make_proxy):
    proxy = make_proxy(funded, plan=plan, countries=[US, DE])
    today = timezone.now().date()
    UsageDailyFactory(proxy=proxy, date=today, traffic_bytes=1_500_000_000, cost=Decimal("6.00"))
    # Last month's traffic does not count toward "this month".
    UsageDailyFactory(
        proxy=proxy, date=today.replace(day=1) - timedelta(days=1), traffic_bytes=9 * GB
    )
    response = logged_in_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(rf'<tr data-proxy-id="{proxy.public_id}">(.*?)</tr>', html, re.S).group(1)
    assert "shop_scraper" in row
    assert "Residential" in row
    assert "Active" in row
    assert "Residential Standard" in row
    assert ">DE<" in row and ">US<" in row
    assert "1.50 GB" in row
    assert "$6.00" in row
    assert timezone.now().strftime("%b") in row  # created date
    # The gateway username, with the first country as example, and its documented format.
    assert "user-shop_scraper-country-de" in row
    assert "user-&lt;name&gt;" in html
    assert "-country-us" in html and "-state-california" in html
    assert "extract_parameter" in html


def test_suspended_proxy_shows_the_reason(logged_in_client, user, plan):
    ProxyFactory(
        owner=user,
        plan=plan,
        name="capped",
        status=ProxyStatus.SUSPENDED,
        suspended_reason=SuspensionReason.BALANCE,
    )
    html = logged_in_client.get(LIST).content.decode()
    assert "Suspended" in html
    assert "Balance exhausted" in html


def test_list_shows_only_own_live_proxies(logged_in_client, user, other_user, make_proxy):
    make_proxy(user, name="mine")
    gone = make_proxy(user, name="gone")
    Proxy.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    make_proxy(other_user, name="theirs")
    response = logged_in_client.get(LIST)
    assert names(response) == ["mine"]
    assert "theirs" not in response.content.decode()


def test_search_matches_name_case_insensitively(logged_in_client, user, make_proxy):
    for name in ["shop_alpha", "shop_beta", "monitor"]:
        make_proxy(user, name=name, description="watches the shop")
    response = logged_in_client.get(LIST, {"search": "SHOP"})
    assert sorted(names(response)) == ["shop_alpha", "shop_beta"]
    assert 'value="SHOP"' in response.content.decode()
    assert names(logged_in_client.get(LIST, {"search": "nothing"})) == []
    assert names(logged_in_client.get(LIST, {"search": "watches"})) == []  # name only (SPEC 3.2)


def test_status_filter(logged_in_client, user, plan):
    ProxyFactory(owner=user, plan=plan, name="on")
    ProxyFactory(owner=user, plan=plan, name="off", status=ProxyStatus.INACTIVE, enabled=False)
    ProxyFactory(
        owner=user,
        plan=plan,
        name="capped",
        status=ProxyStatus.SUSPENDED,
        suspended_reason=SuspensionReason.BALANCE,
    )
    assert names(logged_in_client.get(LIST, {"status": "inactive"})) == ["off"]
    assert names(logged_in_client.get(LIST, {"status": "suspended"})) == ["capped"]
    # An unknown status is ignored: everything is listed.
    assert sorted(names(logged_in_client.get(LIST, {"status": "deleted"}))) == [
        "capped",
        "off",
        "on",
    ]


def test_sort_by_columns_and_unknown_sort_is_ignored(logged_in_client, user, plan):
    now = timezone.now()
    for offset, name in enumerate(["bravo", "alpha", "charlie"]):
        proxy = ProxyFactory(
            owner=user, plan=plan, name=name, created_at=now - timedelta(hours=3 - offset)
        )
        UsageDailyFactory(proxy=proxy, date=now.date(), traffic_bytes=[5, 1, 3][offset] * GB)
    assert names(logged_in_client.get(LIST)) == ["charlie", "alpha", "bravo"]  # newest first
    assert names(logged_in_client.get(LIST, {"sort": "name"})) == ["alpha", "bravo", "charlie"]
    assert names(logged_in_client.get(LIST, {"sort": "-name"})) == ["charlie", "bravo", "alpha"]
    assert names(logged_in_client.get(LIST, {"sort": "-traffic"})) == ["bravo", "charlie", "alpha"]
    assert names(logged_in_client.get(LIST, {"sort": "spent"}))[0] in {"alpha", "bravo", "charlie"}
    for bogus in ["owner__password", "-digest", "", "--name"]:
        response = logged_in_client.get(LIST, {"sort": bogus})
        assert response.status_code == 200
        assert names(response) == ["charlie", "alpha", "bravo"]


def test_header_links_toggle_sort_and_keep_filters(logged_in_client, user, make_proxy):
    make_proxy(user)
    html = logged_in_client.get(LIST, {"search": "shop", "sort": "name"}).content.decode()
    assert 'href="/proxies/?search=shop&amp;sort=-name"' in html
    assert 'aria-sort="ascending"' in html
    assert 'href="/proxies/?search=shop&amp;sort=traffic"' in html


def test_list_query_count_is_constant(logged_in_client, user, plan, django_assert_num_queries):
    def add(count: int) -> None:
        for _ in range(count):
            proxy = ProxyFactory(owner=user, plan=plan)
            proxy.countries.set([US, DE])
            UsageDailyFactory(proxy=proxy)

    add(1)
    # session, user, limit-reset check, proxies with usage and plan, their countries
    with django_assert_num_queries(5):
        response = logged_in_client.get(LIST)
    assert response.status_code == 200
    assert len(names(response)) == 1
    add(9)
    with django_assert_num_queries(5):
        response = logged_in_client.get(LIST, {"sort": "-traffic", "status": "active"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 10
    assert response.content.decode().count("<tr data-proxy-id=") == 10


# --- create -------------------------------------------------------------------------------------


def test_create_form_offers_enabled_plans_and_countries(logged_in_client, plan):
    PlanFactory(title="Old Residential", enabled=False)
    PlanFactory(title="Mobile 4G", mobile=True)
    html = logged_in_client.get(CREATE).content.decode()
    assert "Residential Standard" in html and "Mobile 4G" in html
    assert "Old Residential" not in html
    assert re.search(r'<select name="countries" id="id_countries" multiple', html)
    assert "Germany (DE)" in html and "United States (US)" in html
    assert 'name="ip_whitelist"' in html
    assert "one ipv4 or ipv6 address or cidr network per line" in html.lower()


def test_create_page_query_count_is_constant(logged_in_client, plan, django_assert_num_queries):
    # session, user, residential plans, mobile plans, countries
    with django_assert_num_queries(5):
        response = logged_in_client.get(CREATE)
    assert response.status_code == 200
    assert "Residential Standard" in response.content.decode()
    PlanFactory.create_batch(5)
    PlanFactory.create_batch(5, mobile=True)
    with django_assert_num_queries(5):
        response = logged_in_client.get(CREATE)
    assert response.status_code == 200
    assert sum(len(plans) for _, plans in response.context["plan_groups"]) == 11
    assert 'name="ip_whitelist"' in response.content.decode()


def test_create_proxy_through_the_service(logged_in_client, funded, plan):
    response = logged_in_client.post(
        CREATE,
        create_payload(
            plan,
            name="shop_scraper",
            countries=[str(US), str(DE)],
            description="  Price monitoring  ",
            ip_whitelist="203.0.113.7\r\n10.0.0.0/24\r\n\r\n203.0.113.7\r\n2001:DB8::/32",
            limit_type="traffic",
            limit_period="monthly",
            limit_total="2.5",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == LIST
    proxy = Proxy.objects.get(owner=funded)
    assert proxy.name == "shop_scraper"
    assert proxy.proxy_type == "residential"
    assert proxy.plan == plan
    assert proxy.status == ProxyStatus.ACTIVE
    assert proxy.description == "Price monitoring"
    assert sorted(proxy.countries.values_list("code", flat=True)) == ["DE", "US"]
    assert proxy.ip_whitelist == ["203.0.113.7", "10.0.0.0/24", "2001:db8::/32"]
    assert (proxy.limit_type, proxy.limit_period) == (LimitType.TRAFFIC, LimitPeriod.MONTHLY)
    assert proxy.limit_total == Decimal(2_500_000_000)
    followed = logged_in_client.get(LIST).content.decode()
    assert "Proxy “shop_scraper” was created" in followed


def test_create_money_limit_and_no_limit(logged_in_client, user, plan):
    logged_in_client.post(
        CREATE,
        create_payload(
            plan, name="capped", limit_type="money", limit_period="daily", limit_total="12.50"
        ),
    )
    logged_in_client.post(
        CREATE,
        # Period and total are ignored when "No limit" is chosen.
        create_payload(plan, name="free", limit_type="", limit_period="daily", limit_total="9"),
    )
    capped = Proxy.objects.get(name="capped")
    assert (capped.limit_type, capped.limit_period, capped.limit_total) == (
        "money",
        "daily",
        Decimal("12.50"),
    )
    free = Proxy.objects.get(name="free")
    assert (free.limit_type, free.limit_period, free.limit_total) == ("", "", None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Name is required."),
        ({"name": "Shop Scraper"}, "name", "Use only lower-case letters"),
        ({"name": "x" * 65}, "name", "at most 64 characters"),
        ({"name": "taken"}, "name", "You already have a proxy named 'taken'"),
        ({"proxy_type": "datacenter"}, "proxy_type", "Select a valid choice"),
        ({"proxy_type": ""}, "proxy_type", "Choose residential or mobile."),
        ({"plan": ""}, "plan", "Choose a plan."),
        ({"plan": "abc"}, "plan", "Choose a plan."),
        ({"plan": "disabled"}, "plan", "No enabled residential plan"),
        ({"plan": "mobile"}, "plan", "No enabled residential plan"),
        ({"countries": ["9999"]}, "countries", "Unknown country id(s): 9999."),
        ({"countries": ["us"]}, "countries", "Choose countries from the list."),
        ({"countries": ["9" * 30]}, "countries", "Unknown country id(s)"),
        ({"plan": "9" * 30}, "plan", "No enabled residential plan"),
        ({"description": "d" * 501}, "description", "at most 500 characters"),
        ({"ip_whitelist": "203.0.113.7\n999.1.1.1"}, "ip_whitelist", "'999.1.1.1' is not an"),
        ({"ip_whitelist": "10.0.0.7/24"}, "ip_whitelist", "is not an IPv4/IPv6 address"),
        ({"ip_whitelist": "localhost"}, "ip_whitelist", "'localhost' is not an"),
        (
            {"limit_type": "money", "limit_period": "", "limit_total": "5"},
            "limit_period",
            "Choose daily or monthly.",
        ),
        (
            {"limit_type": "money", "limit_period": "daily", "limit_total": "1.234"},
            "limit_total",
            "at most two decimal places",
        ),
        (
            {"limit_type": "money", "limit_period": "daily", "limit_total": "-5"},
            "limit_total",
            "Send a number from 0",
        ),
        (
            {"limit_type": "money", "limit_period": "daily", "limit_total": ""},
            "limit_total",
            "Send a number.",
        ),
        (
            {"limit_type": "traffic", "limit_period": "daily", "limit_total": "lots"},
            "limit_total",
            "Enter a number of GB",
        ),
        (
            {"limit_type": "traffic", "limit_period": "daily", "limit_total": "-1"},
            "limit_total",
            "from 0 up to 1,000,000 GB",
        ),
        (
            {"limit_type": "traffic", "limit_period": "daily", "limit_total": "0.0000000001"},
            "limit_total",
            "whole bytes",
        ),
        ({"limit_type": "bytes"}, "limit_type", "Select a valid choice"),
    ],
)
def test_invalid_create_shows_the_error_on_its_field_and_writes_nothing(
    logged_in_client, user, plan, make_proxy, data, field, message
):
    make_proxy(user, name="taken")
    if data.get("plan") == "disabled":
        data = {**data, "plan": str(PlanFactory(disabled=True).pk)}
    elif data.get("plan") == "mobile":
        data = {**data, "plan": str(PlanFactory(mobile=True).pk)}
    response = logged_in_client.post(CREATE, create_payload(plan, **data))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    html = response.content.decode()
    assert f'id="{field}-errors"' in html
    assert Proxy.objects.filter(owner=user).count() == 1
    # The form keeps what was typed.
    if field == "ip_whitelist":
        assert data["ip_whitelist"].split("\n")[-1] in html


def test_one_submission_reports_every_problem(logged_in_client, user, plan):
    response = logged_in_client.post(
        CREATE,
        create_payload(
            plan,
            name="Bad Name",
            plan="",
            ip_whitelist="300.1.1.1",
            limit_type="money",
            limit_period="",
            limit_total="1.234",
        ),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "name",
        "plan",
        "ip_whitelist",
        "limit_period",
        "limit_total",
    }
    assert not Proxy.objects.exists()


# --- edit ---------------------------------------------------------------------------------------


def test_edit_page_prefills_the_form_and_shows_the_name_read_only(
    logged_in_client, user, make_proxy
):
    proxy = make_proxy(
        user,
        countries=[DE],
        description="Prices",
        ip_whitelist=["203.0.113.7", "10.0.0.0/24"],
        limits={"limit_type": "traffic", "time_period": "daily", "total_limit": 1_500_000_000},
    )
    response = logged_in_client.get(edit_url(proxy))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name"' not in html
    assert "shop_scraper" in html and "cannot change" in html
    assert "user-shop_scraper-country-de" in html
    assert re.search(r">\s*203\.0\.113\.7\n10\.0\.0\.0/24</textarea>", html)
    assert re.search(r'<option value="276"\s+selected>Germany \(DE\)</option>', html)
    assert re.search(r'<option value="traffic"\s+selected>', html)
    assert re.search(r'<option value="daily"\s+selected>', html)
    assert 'value="1.5"' in html
    assert ">Prices</textarea>" in html


def test_edit_changes_whitelist_countries_limits_and_status(logged_in_client, funded, make_proxy):
    proxy = make_proxy(funded, ip_whitelist=["203.0.113.7"])
    response = logged_in_client.post(
        edit_url(proxy),
        edit_payload(
            description="New",
            countries=[str(US)],
            ip_whitelist="198.51.100.0/24, 203.0.113.7",
            limit_type="money",
            limit_period="monthly",
            limit_total="30",
            status="inactive",
        ),
    )
    assert response.status_code == 302
    proxy.refresh_from_db()
    assert proxy.description == "New"
    assert list(proxy.countries.values_list("code", flat=True)) == ["US"]
    assert proxy.ip_whitelist == ["198.51.100.0/24", "203.0.113.7"]
    assert (proxy.limit_type, proxy.limit_period, proxy.limit_total) == (
        "money",
        "monthly",
        Decimal("30.00"),
    )
    assert (proxy.enabled, proxy.status) == (False, ProxyStatus.INACTIVE)
    assert proxy.name == "shop_scraper"


def test_edit_ignores_a_posted_name(logged_in_client, user, make_proxy):
    proxy = make_proxy(user)
    logged_in_client.post(edit_url(proxy), edit_payload(name="renamed"))
    proxy.refresh_from_db()
    assert proxy.name == "shop_scraper"


def test_removing_the_limit_in_the_dashboard_resumes_a_suspended_proxy(
    logged_in_client, funded, record, make_proxy
):
    proxy = make_proxy(
        funded,
        limits={"limit_type": "traffic", "time_period": "daily", "total_limit": GB},
    )
    record(proxy, 2 * GB, 10)
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.SUSPENDED
    assert "Usage limit reached" in logged_in_client.get(LIST).content.decode()
    logged_in_client.post(edit_url(proxy), edit_payload(limit_type=""))
    proxy.refresh_from_db()
    assert (proxy.status, proxy.limit_type) == (ProxyStatus.ACTIVE, "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ip_whitelist": "203.0.113.300"}, "ip_whitelist", "is not an IPv4/IPv6 address"),
        ({"countries": ["1234"]}, "countries", "Unknown country id(s): 1234."),
        ({"status": "suspended"}, "status", "Select a valid choice"),
        ({"status": ""}, "status", "This field is required"),
        ({"description": "d" * 501}, "description", "at most 500 characters"),
        (
            {"limit_type": "traffic", "limit_period": "weekly", "limit_total": "1"},
            "limit_period",
            "Select a valid choice",
        ),
        (
            {"limit_type": "money", "limit_period": "daily", "limit_total": "1e20"},
            "limit_total",
            "Send a number from 0",
        ),
    ],
)
def test_invalid_edit_shows_the_error_and_changes_nothing(
    logged_in_client, user, make_proxy, data, field, message
):
    proxy = make_proxy(user, description="Keep", ip_whitelist=["203.0.113.7"])
    before = Proxy.objects.filter(pk=proxy.pk).values().get()
    response = logged_in_client.post(
        edit_url(proxy), edit_payload(**{"description": "Changed", **data})
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert f'id="{field}-errors"' in response.content.decode()
    assert Proxy.objects.filter(pk=proxy.pk).values().get() == before


def test_edit_page_query_count_is_constant(
    logged_in_client, user, django_assert_num_queries, make_proxy
):
    proxy = make_proxy(user, countries=[US])
    # session, user, limit-reset check, proxy with usage, its countries, plans x2, all countries
    with django_assert_num_queries(8):
        response = logged_in_client.get(edit_url(proxy))
    assert response.status_code == 200
    assert "user-shop_scraper-country-us" in response.content.decode()
    proxy.countries.set([US, DE])
    with django_assert_num_queries(8):
        response = logged_in_client.get(edit_url(proxy))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<option value="276"\s+selected>Germany \(DE\)</option>', html)
    assert re.search(r'<option value="840"\s+selected>United States \(US\)</option>', html)


# --- delete -------------------------------------------------------------------------------------


def test_delete_confirmation_page_names_the_proxy(logged_in_client, user, make_proxy):
    proxy = make_proxy(user)
    response = logged_in_client.get(delete_url(proxy))
    html = response.content.decode()
    assert "Delete proxy “shop_scraper”?" in html
    assert proxy.public_id in html
    assert f'action="{delete_url(proxy)}"' in html
    proxy.refresh_from_db()
    assert proxy.deleted_at is None


def test_delete_page_query_count(logged_in_client, user, django_assert_num_queries, make_proxy):
    proxy = make_proxy(user, countries=[US, DE])
    # session, user, proxy (a missing proxy takes the same three queries: check it was found)
    with django_assert_num_queries(3):
        response = logged_in_client.get(delete_url(proxy))
    assert response.status_code == 200
    assert "Delete proxy “shop_scraper”?" in response.content.decode()


def test_list_offers_the_delete_dialog(logged_in_client, user, make_proxy):
    proxy = make_proxy(user)
    html = logged_in_client.get(LIST).content.decode()
    assert '<dialog id="delete-dialog"' in html
    assert f'data-confirm-url="{delete_url(proxy)}"' in html
    assert 'data-slot-name="shop_scraper"' in html


def test_delete_keeps_history_and_frees_the_name(
    logged_in_client, funded, plan, record, make_proxy
):
    proxy = make_proxy(funded)
    record(proxy, GB)
    response = logged_in_client.post(delete_url(proxy), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    html = response.content.decode()
    assert "Proxy “shop_scraper” was deleted" in html
    assert names(response) == []
    proxy.refresh_from_db()
    assert proxy.deleted_at is not None
    assert proxy.usage.count() == 1
    assert proxy.transactions.count() == 1
    # The name can be used again.
    logged_in_client.post(CREATE, create_payload(plan))
    assert Proxy.objects.alive().get(owner=funded).name == "shop_scraper"


# --- an open whitelist needs an explicit confirmation ------------------------------------------


def test_an_open_whitelist_needs_the_confirmation_box(logged_in_client, funded, plan):
    url = reverse("proxies:create")
    refused = logged_in_client.post(url, create_payload(plan, ip_whitelist="0.0.0.0/0"))
    assert refused.status_code in (200, 400)
    assert "Tick the box below" in refused.content.decode()
    assert not Proxy.objects.filter(owner=funded).exists()

    confirmed = logged_in_client.post(
        url, create_payload(plan, ip_whitelist="0.0.0.0/0", allow_everyone="on")
    )
    assert confirmed.status_code == 302
    assert Proxy.objects.get(owner=funded).ip_whitelist == ["0.0.0.0/0"]


def test_editing_to_an_open_whitelist_needs_the_confirmation_too(
    logged_in_client, funded, make_proxy
):
    proxy = make_proxy(funded)
    response = logged_in_client.post(edit_url(proxy), edit_payload(ip_whitelist="::/0"))
    assert "Tick the box below" in response.content.decode()
    proxy.refresh_from_db()
    assert proxy.ip_whitelist == []

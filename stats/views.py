"""Dashboard Statistics page and its CSV download (SPEC D3).

The page renders totals, a per-proxy breakdown and a table of days; static/js/stats_chart.js turns
the days (embedded as JSON) into a Chart.js chart and hides the table, so without JavaScript the
table is the report (K8).  The CSV download is the Public API's export behind the session instead
of an API key: same rows, same streaming.

The breakdown is paged, 50 proxies a page by name (`?page=` is 1-based; a missing, malformed or
too large number shows the nearest page), so the page costs the same queries and about the same
time at 10 proxies or 10,000 (`stats.selectors.breakdown_proxy_list` says why not by traffic).
"""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from common.forms import DateRangeForm
from common.paging import page_number
from proxies import selectors as proxy_selectors

from . import selectors
from .csv import MAX_EXPORT_DAYS
from .exports import usage_export_response

BREAKDOWN_PER_PAGE = 50


class StatisticsView(View):
    """Traffic per day over a chosen range, totals and a per-proxy breakdown."""

    template_name = "stats/statistics.html"

    def get(self, request):
        form = DateRangeForm(request.GET)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        series = selectors.account_traffic(
            owner_id=request.user.pk, date_from=form.start, date_to=form.end
        )
        totals = selectors.totals(series)
        page = Paginator(
            selectors.breakdown_proxy_list(
                owner_id=request.user.pk, date_from=form.start, date_to=form.end
            ),
            BREAKDOWN_PER_PAGE,
        ).get_page(page_number(request.GET.get("page")))
        breakdown = selectors.proxy_breakdown(
            proxies=list(page.object_list), date_from=form.start, date_to=form.end
        )
        chart = {
            "dates": [day.date.isoformat() for day in series],
            "traffic_bytes": [day.traffic_bytes for day in series],
            "requests": [day.requests for day in series],
            "cost": [f"{day.cost:.2f}" for day in series],
        }
        context = {
            "form": form,
            "range_query": form.query(),
            "totals": totals,
            "days": series,
            "chart": chart,
            "breakdown": breakdown,
            "page": page,
        }
        return render(request, self.template_name, context)


class UsageExportView(View):
    """`/statistics/export/<public_id>.csv?date_from=&date_to=`: one row per day, zero days too.

    Streamed like `GET /v1/proxy/{id}/usage/export`, so memory does not grow with the range.
    Another account's (or a deleted) proxy is 404.
    """

    def get(self, request, public_id: str):
        proxy = proxy_selectors.proxy_name_get(owner_id=request.user.pk, public_id=public_id)
        form = DateRangeForm(request.GET, max_days=MAX_EXPORT_DAYS)
        if not form.is_valid():
            errors = [f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()]
            return HttpResponse(
                "\n".join(errors) + "\n", status=400, content_type="text/plain; charset=utf-8"
            )
        return usage_export_response(proxy=proxy, date_from=form.start, date_to=form.end)

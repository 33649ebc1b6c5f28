"""The usage export as an HTTP response: one for the dashboard's download and the Public API's
`GET /v1/proxy/{id}/usage/export`, so both send the same file under the same name and headers."""

from datetime import date

from django.http import StreamingHttpResponse

from proxies.selectors import ProxyName

from . import selectors
from .csv import usage_csv


def usage_export_response(
    *, proxy: ProxyName, date_from: date, date_to: date
) -> StreamingHttpResponse:
    """The proxy's days from `date_from` to `date_to` (checked by the caller against
    `stats.csv.MAX_EXPORT_DAYS`) as a streamed `text/csv` attachment that no cache keeps."""
    rows = selectors.proxy_usage_lines(proxy_id=proxy.pk, date_from=date_from, date_to=date_to)
    response = StreamingHttpResponse(
        usage_csv(rows, date_from=date_from, date_to=date_to),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"{proxy.name}_usage_{date_from:%Y-%m-%d}_{date_to:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

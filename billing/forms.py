"""The Billing page's history filter (SPEC D4): a date range, as on the Statistics page."""

from common.forms import DateRangeForm

TRANSACTIONS_PER_PAGE = 25


class TransactionFilterForm(DateRangeForm):
    """Transactions created on the days of the range (UTC); the last 30 days by default.

    Paging is separate: `?page=` is 1-based, like the page numbers people see.
    """

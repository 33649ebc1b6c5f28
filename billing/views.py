"""Dashboard Billing page (SPEC D4): balance, the ledger paged by date range, and the plans.

`?page=` is 1-based (page 1 is the newest 25 transactions); a missing, malformed or too large
page number shows the nearest page instead of an error.  The Public API's balance history is
zero-based (A4); this page numbers pages as people read them.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views import View

from common.paging import page_number

from . import selectors
from .forms import TRANSACTIONS_PER_PAGE, TransactionFilterForm


class BillingView(View):
    """Balance, transaction history for a date range, and the enabled plans per proxy type."""

    template_name = "billing/billing.html"

    def get(self, request):
        owner_id = request.user.pk
        form = TransactionFilterForm(request.GET)
        context = {
            "form": form,
            "balance": selectors.balance_get(owner_id=owner_id),
            "plan_groups": selectors.enabled_plans_by_type(),
        }
        if not form.is_valid():
            return render(request, self.template_name, context, status=400)
        transactions = selectors.transaction_list(
            owner_id=owner_id, date_from=form.start, date_to=form.end
        ).order_by("-created_at", "-pk")
        page = Paginator(transactions, TRANSACTIONS_PER_PAGE).get_page(
            page_number(request.GET.get("page"))
        )
        context.update(page=page, transactions=list(page.object_list), range_query=form.query())
        return render(request, self.template_name, context)

"""The Security log page (K27): the account's own entries, newest first, paged, filtered by event
type in the query string (`?event=key_revoked&page=2`).  Plain HTML, no JavaScript needed; a
constant number of queries whatever the page."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views import View

from common.paging import page_number

from .models import SecurityEventType
from .selectors import security_event_list

EVENTS_PER_PAGE = 50


class SecurityEventListView(View):
    template_name = "accounts/security_log.html"

    def get(self, request):
        event = request.GET.get("event", "")
        if event not in SecurityEventType.values:
            event = ""  # an unknown type (a stale bookmark) shows every event, never an error
        events = security_event_list(account_id=request.user.pk, event=event)
        page = Paginator(events, EVENTS_PER_PAGE).get_page(page_number(request.GET.get("page")))
        return render(
            request,
            self.template_name,
            {
                "page": page,
                "events": list(page.object_list),
                "event": event,
                "filter_query": urlencode({"event": event}) if event else "",
                "event_choices": SecurityEventType.choices,
            },
        )

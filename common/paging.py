"""Paged dashboard tables: `?page=` is 1-based, as people read page numbers."""


def page_number(value: str | None) -> int:
    """The 1-based page asked for; anything unreadable or below 1 is page 1 (a page past the end
    shows the last one: `Paginator.get_page`)."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1

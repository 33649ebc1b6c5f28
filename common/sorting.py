"""Sort-by-column for the dashboard's tables: `?sort=<key>` ascending, `?sort=-<key>` descending.

One rule for every table (K13, D2): a key the table does not offer (a stale bookmark, a hand-edited
URL) shows the default order, never an error page.  A header link sorts its column ascending, or
descending when the column already sorts ascending; it keeps the page's search and filters and
nothing else, so a page number or any other parameter of the previous order starts over.

Pure Python: the views pass the query parameters in and the templates read the result
(`templates/common/sortable_th.html` renders one header cell).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

SORT_PARAM = "sort"
SEARCH_PARAM = "search"
SEARCH_MAX_LENGTH = 100


def search_param(params: Mapping[str, str]) -> str:
    """The table's search text: trimmed, cut to `SEARCH_MAX_LENGTH`, without NUL bytes (PostgreSQL
    refuses them in text, and nobody searches for one)."""
    return params.get(SEARCH_PARAM, "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]


def sort_parse(value: str | None, *, fields: Mapping[str, str], default: str) -> str:
    """`value` when it names a sort key of `fields` (optionally '-'-prefixed), else `default`.

    Only exact keys pass: `--name`, `-`, `name;drop` or a model path like `owner__password` fall
    back to the default, so a value from the URL never reaches `order_by` on its own.
    """
    if value and value.removeprefix("-") in fields:
        return value
    return default


@dataclass(frozen=True)
class SortColumn:
    """One header cell: its sort key (None for a column that does not sort), its label, the link
    that sorts by it, and its current direction as an `aria-sort` value ("" when not sorted)."""

    key: str | None
    label: str
    href: str = ""
    next_sort: str = ""
    direction: str = ""


@dataclass(frozen=True)
class Sorting:
    """The validated order of a table and its header cells.

    `sort` is the key as it appears in the URL; `field` is what the selector orders by for it.
    """

    sort: str
    field: str
    descending: bool
    columns: list[SortColumn]


def sort_by_column(
    params: Mapping[str, str],
    *,
    fields: Mapping[str, str],
    default: str,
    columns: Sequence[tuple[str | None, str]],
    path: str,
    keep: Mapping[str, str] | None = None,
) -> Sorting:
    """The order `params` asks for among `fields` (public key -> ordering), and the header cells.

    `columns` lists (sort key or None, label) in table order.  `keep` holds the other parameters
    the header links carry, already cleaned by the view; empty ones are left out of the links.
    """
    if default.removeprefix("-") not in fields:
        raise ValueError(f"default sort {default!r} is not one of {sorted(fields)}")
    sort = sort_parse(params.get(SORT_PARAM), fields=fields, default=default)
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    kept = {name: value for name, value in (keep or {}).items() if value}
    cells = []
    for column, label in columns:
        if column is None:
            cells.append(SortColumn(key=None, label=label))
            continue
        next_sort = f"-{column}" if sort == column else column
        direction = ""
        if column == key:
            direction = "descending" if descending else "ascending"
        cells.append(
            SortColumn(
                key=column,
                label=label,
                href=f"{path}?{urlencode({**kept, SORT_PARAM: next_sort})}",
                next_sort=next_sort,
                direction=direction,
            )
        )
    return Sorting(sort=sort, field=fields[key], descending=descending, columns=cells)

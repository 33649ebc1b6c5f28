"""Sort-by-column (common/sorting.py): the order a table's `?sort=` asks for and its header links,
plus the header cell template both dashboard tables include."""

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string

from common.sorting import (
    SEARCH_MAX_LENGTH,
    SortColumn,
    search_param,
    sort_by_column,
    sort_parse,
)

FIELDS = {"name": "name", "traffic": "total_used", "created": "created_at"}
COLUMNS = [("name", "Name"), (None, "Countries"), ("traffic", "Traffic"), ("created", "Created")]


def sorting_for(query: str, **keep: str):
    return sort_by_column(
        QueryDict(query),
        fields=FIELDS,
        default="-created",
        columns=COLUMNS,
        path="/things/",
        keep=keep,
    )


def column(sorting, key: str | None) -> SortColumn:
    return next(cell for cell in sorting.columns if cell.key == key)


@pytest.mark.parametrize(
    ("query", "sort", "field", "descending"),
    [
        ("sort=name", "name", "name", False),
        ("sort=-name", "-name", "name", True),
        ("sort=traffic", "traffic", "total_used", False),
        ("sort=-created", "-created", "created_at", True),
        ("", "-created", "created_at", True),
    ],
)
def test_a_known_key_gives_its_selector_field_and_direction(query, sort, field, descending):
    sorting = sorting_for(query)
    assert (sorting.sort, sorting.field, sorting.descending) == (sort, field, descending)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-",
        "--name",
        "name;drop",
        "Name",
        "name ",
        "created_at",
        "owner__password",
        "x" * 5000,
        "-" + "x" * 5000,
        "nämé",
        "名前",
        "name\x00",
        "-\u200bname",
    ],
)
def test_an_unknown_key_falls_back_to_the_default(value):
    query = QueryDict(mutable=True)
    query["sort"] = value
    sorting = sorting_for(query.urlencode())
    assert (sorting.sort, sorting.field, sorting.descending) == ("-created", "created_at", True)
    assert sort_parse(value, fields=FIELDS, default="name") == "name"
    # Nothing of the value reaches the links either.
    assert all(value not in cell.href for cell in sorting.columns if value.strip("-"))


def test_missing_parameter_and_none_give_the_default():
    assert sort_parse(None, fields=FIELDS, default="-created") == "-created"
    assert sorting_for("search=x").sort == "-created"


def test_the_last_value_wins_like_every_other_query_parameter():
    assert sorting_for("sort=name&sort=-traffic").sort == "-traffic"


def test_a_default_the_table_does_not_offer_is_a_programming_error():
    with pytest.raises(ValueError, match="default sort"):
        sort_by_column(QueryDict(""), fields=FIELDS, default="size", columns=COLUMNS, path="/")


def test_header_link_sorts_ascending_then_reverses_the_current_column():
    ascending = sorting_for("sort=name")
    assert column(ascending, "name").next_sort == "-name"
    assert column(ascending, "name").direction == "ascending"
    descending = sorting_for("sort=-name")
    assert column(descending, "name").next_sort == "name"
    assert column(descending, "name").direction == "descending"
    # Other columns start ascending and carry no direction.
    assert column(ascending, "traffic").next_sort == "traffic"
    assert column(ascending, "traffic").direction == ""


def test_the_default_descending_column_is_marked_and_its_link_sorts_ascending():
    sorting = sorting_for("")
    created = column(sorting, "created")
    assert (created.direction, created.next_sort) == ("descending", "created")
    assert [cell.direction for cell in sorting.columns].count("") == 3


def test_links_keep_the_given_filters_in_order_and_drop_everything_else():
    sorting = sorting_for("sort=name&page=4&utm=x&search=raw", search="shop", status="active")
    assert column(sorting, "name").href == "/things/?search=shop&status=active&sort=-name"
    assert column(sorting, "traffic").href == "/things/?search=shop&status=active&sort=traffic"


def test_links_leave_out_empty_filters():
    sorting = sorting_for("sort=name", search="", status="")
    assert column(sorting, "name").href == "/things/?sort=-name"


def test_kept_values_are_url_encoded():
    sorting = sorting_for("sort=name", search="a&b=c d/é")
    assert column(sorting, "name").href == "/things/?search=a%26b%3Dc+d%2F%C3%A9&sort=-name"


def test_a_column_without_a_key_does_not_sort():
    countries = column(sorting_for("sort=name"), None)
    assert countries == SortColumn(key=None, label="Countries")


def test_the_columns_keep_the_table_order():
    assert [cell.label for cell in sorting_for("").columns] == [
        "Name",
        "Countries",
        "Traffic",
        "Created",
    ]


def test_header_cell_marks_the_sorted_column_for_assistive_technology():
    sorting = sorting_for("sort=-traffic", search="a&b")
    html = render_to_string("common/sortable_th.html", {"column": column(sorting, "traffic")})
    assert 'aria-sort="descending"' in html
    assert 'href="/things/?search=a%26b&amp;sort=traffic"' in html
    assert 'data-sort="traffic"' in html
    assert ">Traffic ▼</a>" in html
    html = render_to_string("common/sortable_th.html", {"column": column(sorting, "name")})
    assert "aria-sort" not in html
    assert ">Name</a>" in html


def test_header_cell_of_a_column_that_does_not_sort_is_plain_text():
    html = render_to_string("common/sortable_th.html", {"column": column(sorting_for(""), None)})
    assert "<a" not in html
    assert "aria-sort" not in html
    assert "Countries" in html
    assert '<th scope="col"' in html


def test_header_cell_escapes_its_label():
    cell = SortColumn(key="name", label="<b>Name</b>", href="/?sort=name", next_sort="name")
    html = render_to_string("common/sortable_th.html", {"column": cell})
    assert "&lt;b&gt;Name&lt;/b&gt;" in html


def test_search_param_is_trimmed_cut_and_free_of_nul_bytes():
    assert search_param({}) == ""
    assert search_param({"search": "  shop\x00 scraper  "}) == "shop scraper"
    assert search_param({"search": "x" * (SEARCH_MAX_LENGTH + 50)}) == "x" * SEARCH_MAX_LENGTH

"""Writing many rows in a few statements, without a model instance per row.

`QuerySet.bulk_create` builds and compiles every field of every instance: for the ledger and
usage rows of a 100,000-record import that was most of the import's time, against a small part
for the database itself.  `bulk_insert` takes plain tuples instead, adapts the few values the
drivers do not take as they are (dates, datetimes, decimals, through the backend's own `adapt_*`
methods, so the stored values equal what the ORM stores), and sends few statements:
  - SQLite: one multi-row INSERT ... VALUES per ROWS_PER_STATEMENT rows;
  - PostgreSQL: past a few rows, one INSERT ... SELECT FROM unnest(...) per
    ARRAY_ROWS_PER_STATEMENT rows, a parameter per column rather than per value.  psycopg binding
    on the client (Django's default) parses every placeholder of a statement in Python: with a
    placeholder per value that cost more than the insert itself.  Up to POSTGRESQL_VALUES_ROWS
    rows (a single usage record) VALUES is cheaper: arrays cost more to send and plan (measured
    here: one row 80 µs against 280, ten rows even, a hundred 2.9 ms against 1.3).
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

# 500 rows of up to 10 columns: 5,000 parameters, well inside SQLite's limit (32,766).
ROWS_PER_STATEMENT = 500
ARRAY_ROWS_PER_STATEMENT = 10_000
POSTGRESQL_VALUES_ROWS = 10

Adapter = Callable[[Any], Any]


def _field(model: type[models.Model], name: str) -> tuple[models.Field, str]:
    """The model's field called `name` and its column, quoted."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field, connection.ops.quote_name(field.column)


def _adapter(field: models.Field) -> Adapter | None:
    """How a value of `field` is handed to the driver, or None when it goes as it is."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        max_digits, decimal_places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, max_digits, decimal_places)
    return None


def bulk_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    unique: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """INSERT `rows` (values in the order of `fields`, field names) into `model`'s table.

    Values are stored as given: no field defaults, no `max_length` cut, no validation.  With
    `unique` (fields of a unique constraint) and `update`, a row that matches a stored row on
    `unique` sets that row's `update` fields to its own values instead of failing (ON CONFLICT
    ... DO UPDATE SET field = excluded.field); `rows` must not match each other on `unique`.
    """
    if not rows:
        return
    concrete = [_field(model, name)[0] for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_field(model, name)[1] for name in fields)
    conflict = ""
    if unique:
        targets = ", ".join(_field(model, name)[1] for name in unique)
        changes = ", ".join(
            f"{column} = excluded.{column}" for _, column in (_field(model, n) for n in update)
        )
        conflict = f" ON CONFLICT ({targets}) DO UPDATE SET {changes}"
    # (position, adapter, memo) of the values the drivers do not take as they are.  Dates and
    # datetimes repeat across the rows of a batch: each distinct one is adapted once (memo).
    adapted: list[tuple[int, Adapter, dict[Any, Any] | None]] = [
        (position, adapt, {} if isinstance(field, models.DateField) else None)
        for position, field in enumerate(concrete)
        if (adapt := _adapter(field)) is not None
    ]

    def flat(part: Sequence[Sequence[Any]]) -> list[Any]:
        values: list[Any] = []
        for row in part:
            if adapted:
                row = list(row)
                for position, adapt, memo in adapted:
                    value = row[position]
                    if value is None:
                        continue
                    if memo is None:
                        row[position] = adapt(value)
                    elif (known := memo.get(value)) is not None:
                        row[position] = known
                    else:
                        row[position] = memo[value] = adapt(value)
            values.extend(row)
        return values

    width = len(concrete)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > POSTGRESQL_VALUES_ROWS:
            # unnest() of one array per column gives the rows back, column by column.
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in concrete)
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}){conflict}"  # noqa: S608
            for start in range(0, len(rows), ARRAY_ROWS_PER_STATEMENT):
                values = flat(rows[start : start + ARRAY_ROWS_PER_STATEMENT])
                cursor.execute(sql, [values[column::width] for column in range(width)])
        else:
            row_sql = "(" + ", ".join(["%s"] * width) + ")"
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                part = rows[start : start + ROWS_PER_STATEMENT]
                sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(part))}{conflict}"  # noqa: S608
                cursor.execute(sql, flat(part))

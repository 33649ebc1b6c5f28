"""Fill `AccountUsageDaily` from the `UsageDaily` rows already stored: one INSERT ... SELECT
grouped by account and day, run by the database (the same SQL on SQLite and PostgreSQL).

Reversible: going back empties the table (0005 then drops it).  Usage must not be recorded while
this runs (a deployment migrates before the new code serves); `manage.py check_usage_rollup`
compares the result with the proxy rows afterwards.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    AccountUsageDaily = apps.get_model("proxies", "AccountUsageDaily")
    UsageDaily = apps.get_model("proxies", "UsageDaily")
    qn = schema_editor.connection.ops.quote_name
    # ROUND: SQLite's SUM() over a decimal column adds floats (46288.6500000001); the rollup
    # stores whole cents, as the service does.  PostgreSQL's numeric sum is exact already.
    schema_editor.execute(
        f"INSERT INTO {qn(AccountUsageDaily._meta.db_table)} "
        "(owner_id, date, traffic_bytes, requests, cost) "
        "SELECT owner_id, date, SUM(traffic_bytes), SUM(requests), ROUND(SUM(cost), 2) "
        f"FROM {qn(UsageDaily._meta.db_table)} GROUP BY owner_id, date"
    )


def empty(apps, schema_editor):
    apps.get_model("proxies", "AccountUsageDaily").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("proxies", "0005_account_usage_daily")]

    operations = [migrations.RunPython(backfill, empty)]

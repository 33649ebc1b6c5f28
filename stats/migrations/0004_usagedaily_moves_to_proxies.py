"""`UsageDaily` moves to the `proxies` app (proxies.0003): removed from this app's state only.
The table `stats_usagedaily`, its rows, constraint and index stay exactly as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0003_usage_price_per_gb"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="UsageDaily")],
            database_operations=[],
        )
    ]

"""A16: keep the price each day was billed at.

Existing days get their plan's current price: that is the price their last record was charged
at (before this change every record re-priced the whole day at the plan's price of that moment),
so nothing already charged is re-priced by the migration, and later records of those days are
charged at it.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def store_current_prices(apps, schema_editor):
    UsageDaily = apps.get_model("stats", "UsageDaily")
    Proxy = apps.get_model("proxies", "Proxy")
    price = Proxy.objects.filter(pk=OuterRef("proxy_id")).values("tariff__price_per_gb")[:1]
    UsageDaily.objects.filter(price_per_gb__isnull=True).update(price_per_gb=Subquery(price))


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0002_covering_report_index"),
        ("proxies", "0001_initial"),
        ("billing", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="usagedaily",
            name="price_per_gb",
            field=models.DecimalField(decimal_places=2, max_digits=10, null=True),
        ),
        migrations.RunPython(store_current_prices, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="usagedaily",
            name="price_per_gb",
            field=models.DecimalField(decimal_places=2, max_digits=10),
        ),
    ]

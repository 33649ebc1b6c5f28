"""`UsageDaily` now belongs to `proxies` (the proxy status rules read it; stats builds on
proxies).  State only: the model keeps the table `stats_usagedaily` it has always had, with its
rows, constraint and index, so nothing is copied or rebuilt."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("proxies", "0002_idempotency_record"),
        ("stats", "0004_usagedaily_moves_to_proxies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="UsageDaily",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("date", models.DateField()),
                        ("traffic_bytes", models.BigIntegerField(default=0)),
                        ("requests", models.BigIntegerField(default=0)),
                        (
                            "cost",
                            models.DecimalField(
                                decimal_places=2, default=Decimal("0.00"), max_digits=14
                            ),
                        ),
                        ("price_per_gb", models.DecimalField(decimal_places=2, max_digits=10)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "proxy",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="usage",
                                to="proxies.proxy",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "daily usage",
                        "db_table": "stats_usagedaily",
                        "indexes": [
                            models.Index(
                                fields=["owner", "date", "traffic_bytes", "requests", "cost"],
                                name="usage_owner_date_cover_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("proxy", "date"), name="usage_proxy_date_unique"
                            )
                        ],
                    },
                )
            ],
        )
    ]

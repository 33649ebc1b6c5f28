"""`AccountUsageDaily`: one row per account and UTC day, the sum of the account's `UsageDaily`
rows of that day, so account reports read one row per day (filled by 0006)."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("proxies", "0004_proxy_plan"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountUsageDaily",
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
                    models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=20),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "account daily usage",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "date"), name="account_usage_owner_date_unique"
                    )
                ],
            },
        ),
    ]

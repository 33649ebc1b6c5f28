import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """`Proxy.tariff` is called `plan` inside the code (the API keeps `tariff` and `tariff_id`).

    State only: the column stays `tariff_id`, so the table is not rewritten.
    """

    dependencies = [
        ("billing", "0002_initial"),
        ("proxies", "0003_usagedaily"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="proxy", old_name="tariff", new_name="plan"),
                migrations.AlterField(
                    model_name="proxy",
                    name="plan",
                    field=models.ForeignKey(
                        db_column="tariff_id",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proxies",
                        to="billing.plan",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]

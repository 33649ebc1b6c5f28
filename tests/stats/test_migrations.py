"""A16's data migration: existing days keep what they were charged, priced from then on; and
`UsageDaily`'s move from `stats` to `proxies` (state only) keeps every row of its table."""

import os

from tests.manage_process import run_manage


def test_existing_days_get_their_plans_price_and_nothing_is_re_priced(tmp_path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mig.sqlite3'}",
    }
    assert run_manage("migrate", "-v0", env=env).returncode == 0
    assert run_manage("migrate", "stats", "0002", "-v0", env=env).returncode == 0
    seed = run_manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "from accounts.models import User\n"
        "from billing.models import Plan\n"
        "from proxies.models import Proxy\n"
        "u = User.objects.create_user('m', 'm@example.com', 'pw-123456789')\n"
        "plan = Plan.objects.create(proxy_type='residential', title='P', price_per_gb='5.00')\n"
        "p = Proxy.objects.create(owner=u, name='px', public_id='abc123', plan=plan,"
        " proxy_type='residential')\n"
        "with connection.cursor() as c:\n"
        "    c.execute('INSERT INTO stats_usagedaily (proxy_id, owner_id, date, traffic_bytes,"
        " requests, cost) VALUES (%s, %s, %s, %s, %s, %s)', [p.pk, u.pk, '2026-11-30',"
        " 10**9, 3, '4.00'])\n",
        env=env,
    )
    assert seed.returncode == 0, seed.stderr
    assert run_manage("migrate", "-v0", env=env).returncode == 0
    check = run_manage(
        "shell",
        "-c",
        "from proxies.models import UsageDaily as U; r = U.objects.get();"
        " print(r.cost, r.price_per_gb, r.traffic_bytes)",
        env=env,
    )
    assert check.stdout.strip().splitlines()[-1] == f"4.00 5.00 {10**9}"

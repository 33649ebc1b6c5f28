"""`manage.py flush_key_usage`: move the per-key usage counts (K31) from the cache into the
database, prune rows older than 90 days, and write the security log's "retired" entry of rotated
keys whose grace period has ended (K25, K27).  Run it every minute from cron:

    * * * * *  cd /srv/proxy-dashboard && .venv/bin/python manage.py flush_key_usage

With Redis this flushes the counts of every process and app server (the processes also flush by
themselves about once a minute; runs at the same time take disjoint counts).  Without Redis each
process keeps its own counts and flushes them from its request path: this command then only
prunes and logs retirements.
"""

from django.core.management.base import BaseCommand

from apikeys.services import api_key_retirements_log
from apikeys.usage import usage_flush


class Command(BaseCommand):
    help = (
        "Move per-key usage counts from the cache into the database; prune old days; log the "
        "retirement of rotated keys whose grace period ended."
    )

    def handle(self, *args, **options) -> None:
        result = usage_flush()
        retired = api_key_retirements_log()
        self.stdout.write(
            f"Added to {result.rows} usage row(s); pruned {result.pruned}; "
            f"{result.dropped} count(s) of unknown keys dropped; "
            f"{result.deferred} correction(s) kept for the next run; "
            f"{retired} key retirement(s) logged."
        )

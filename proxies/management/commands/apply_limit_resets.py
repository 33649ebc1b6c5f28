"""`manage.py apply_limit_resets`: resume proxies whose usage-limit period has ended (A10).

A proxy suspended at its daily limit may resume at 00:00 UTC, one at its monthly limit at 00:00 UTC
on the 1st; this command applies every reset that is due (`proxies.services.proxy_limit_resets_apply`)
and prints how many proxies changed.  It is idempotent and cheap when nothing is due, so run it from
cron every minute, e.g.

    * * * * *  cd /srv/proxy-dashboard && .venv/bin/python manage.py apply_limit_resets -v0

A resumed proxy whose account has no funds left becomes suspended for balance instead.  Recording
usage also re-derives the status of the proxy it records for, so a proxy that carries traffic
resumes even if the job is late.
"""

from django.core.management.base import BaseCommand

from proxies.services import proxy_limit_resets_apply


class Command(BaseCommand):
    help = "Resume proxies whose daily/monthly usage-limit period has ended (run from cron)."

    def handle(self, *args, verbosity: int = 1, **options) -> None:
        changed = proxy_limit_resets_apply()
        if verbosity >= 1:
            self.stdout.write(
                f"Applied limit resets: {changed} prox{'ies' if changed != 1 else 'y'} changed."
            )

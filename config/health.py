"""`GET /healthz` (R3): is this app server able to serve?  For load balancers and operators.

The checks are django-health-check's (a `SELECT 1` on a short-lived connection, a cache round
trip); this view only shapes their answer:

    {"status": "ok" | "degraded" | "down", "database": "ok" | "<error>", "cache": "ok" | "<error>"}

200 while the database answers: without the cache the API keeps serving (rate limits fail open),
so a dead Redis is "degraded", not a reason to take the server out of rotation.  503 when the
database does not answer.  No authentication, and nothing beyond these words is revealed.
"""

import asyncio

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from health_check.views import HealthCheckView

CHECKS = {"database": "health_check.checks.Database", "cache": "health_check.checks.Cache"}


@method_decorator(login_not_required, name="dispatch")
class HealthView(HealthCheckView):
    checks = tuple(CHECKS.values())

    async def get(self, request, *args, **kwargs) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        report = {
            name: "ok" if result.error is None else result.error.message_type.lower()
            for name, result in zip(CHECKS, results, strict=True)
        }
        database_up = report["database"] == "ok"
        if all(value == "ok" for value in report.values()):
            status = "ok"
        else:
            status = "degraded" if database_up else "down"
        return JsonResponse({"status": status, **report}, status=200 if database_up else 503)

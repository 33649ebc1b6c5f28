"""POST /v1/credentials/revoke: anyone who finds a leaked key can have it killed (K28).

No API key is needed: the finder is a stranger (a person, a secret scanner, a code host's scanning
programme).  Every well-formed report gets the same 202, whatever it held, and the work done does
not depend on it either (see `api_keys_revoke_reported`): the owners' e-mails go out after the
answer has been sent, so neither the answer nor its timing says which credentials were real.
Reports are limited per client address (A13), with a budget of their own
(API_LEAK_REPORT_LIMIT a minute).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny

from accounts.models import SecurityActor
from accounts.services import Origin
from api.envelope import APIResponse
from api.schema import enveloped
from api.views import PublicAPIView
from common.clientip import client_address

from .. import ratelimit, services
from ..authentication import RateLimited
from ..models import APIKey
from ..notifications import key_mail_send
from . import serializers as s


class ReportReceived(APIResponse):
    """The 202 answer.  The WSGI server calls `close()` once the body has been sent: only then
    are the owners of revoked keys e-mailed, so the mail never lengthens the answer."""

    def __init__(self, data, *, revoked: list[APIKey]) -> None:
        super().__init__(data, status=202)
        self.revoked = revoked

    def close(self) -> None:
        try:
            for api_key in self.revoked:
                key_mail_send(api_key=api_key, template="key_reported")
        finally:
            super().close()


class CredentialsRevokeAPIView(PublicAPIView):
    """Report leaked credentials; every live key among them is revoked at once."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="credentials_revoke",
        summary="Report leaked API keys",
        description="Send credentials found where they should not be (a public repository, a "
        "paste, a log). Each one that is a live API key of this service is revoked at once and "
        "its owner is told. No API key is needed. The answer is always 202 for a well-formed "
        "report and says nothing about which credentials were real. Limited per client address.",
        auth=[],
        request=s.LeakReportInputSerializer,
        responses={
            202: OpenApiResponse(
                enveloped(s.LeakReportOutputSerializer),
                description="Received. The same answer whatever the credentials were.",
            )
        },
        examples=[
            OpenApiExample(
                "A report",
                value={"credentials": ["2xt_4fJ2kQ...found-in-a-commit"]},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        verdict = ratelimit.leak_report(ip=client_address(request))
        request.rate_limit = verdict
        if not verdict.allowed:
            raise RateLimited(verdict)
        serializer = s.LeakReportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = [value.strip() for value in serializer.validated_data["credentials"]]
        revoked = services.api_keys_revoke_reported(
            credentials=credentials,
            origin=Origin.from_request(request, actor=SecurityActor.LEAK_REPORT),
        )
        return ReportReceived(
            s.LeakReportOutputSerializer({"received": len(credentials)}).data, revoked=revoked
        )

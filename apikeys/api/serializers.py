"""Shapes of the key endpoints: the leak report (K28)."""

from rest_framework import serializers

from api.params import StrictInputSerializer

MAX_CREDENTIALS = 100
# Far longer than any key: a report of what somebody found need not be trimmed first, while a
# body of megabyte strings is refused before anything is digested.
CREDENTIAL_MAX_LENGTH = 1000


class CredentialField(serializers.CharField):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            max_length=CREDENTIAL_MAX_LENGTH, allow_blank=True, trim_whitespace=False, **kwargs
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")  # a number or an object is not a credential somebody found
        return super().to_internal_value(data)


class LeakReportInputSerializer(StrictInputSerializer):
    credentials = serializers.ListField(
        child=CredentialField(),
        min_length=1,
        max_length=MAX_CREDENTIALS,
        help_text=f"1-{MAX_CREDENTIALS} strings found somewhere they should not be, each as "
        "found (e.g. `2xt_...`). Anything may be reported: the answer is the same.",
    )


class LeakReportOutputSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="How many credentials the report held.")

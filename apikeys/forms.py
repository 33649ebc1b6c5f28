"""The create-key form of the dashboard (K5).  Rules live in services; this only parses input."""

import uuid

from django import forms

from .allowlist import MAX_INPUT_LENGTH as ALLOWLIST_MAX_INPUT
from .models import Expiration
from .scopes import SCOPES
from .services import DEFAULT_GRACE, GRACE_LABELS


class APIKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, label="Name")
    scopes = forms.MultipleChoiceField(
        choices=[(scope.name, scope.name) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        label="Permissions",
        error_messages={"required": "Choose at least one permission."},
    )
    submission = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex
    )
    expiration = forms.ChoiceField(
        choices=Expiration.choices, initial=Expiration.DAYS_90, label="Expiration"
    )
    # K30: checked and normalised by the service (apikeys.allowlist), per entry.
    allowed_ips = forms.CharField(
        required=False,
        max_length=ALLOWLIST_MAX_INPUT,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Allowed IP addresses",
    )


class APIKeyRotateForm(forms.Form):
    """K25: how long the old key keeps working after its replacement is made."""

    grace = forms.ChoiceField(
        choices=list(GRACE_LABELS.items()),
        initial=DEFAULT_GRACE,
        widget=forms.RadioSelect,
        label="Keep the old key working for",
        error_messages={"invalid_choice": "Choose a grace period from the list."},
    )


class APIKeyEditForm(forms.Form):
    """K32: what can change on a key: its name and its allowlist (scopes never: rotate instead)."""

    name = forms.CharField(max_length=100, strip=True, label="Name")
    allowed_ips = forms.CharField(
        required=False,
        max_length=ALLOWLIST_MAX_INPUT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Allowed IP addresses",
    )

"""The create-key form of the dashboard (K5).  Rules live in services; this only parses input."""

import uuid

from django import forms

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


class APIKeyRotateForm(forms.Form):
    """K25: how long the old key keeps working after its replacement is made."""

    grace = forms.ChoiceField(
        choices=list(GRACE_LABELS.items()),
        initial=DEFAULT_GRACE,
        widget=forms.RadioSelect,
        label="Keep the old key working for",
        error_messages={"invalid_choice": "Choose a grace period from the list."},
    )

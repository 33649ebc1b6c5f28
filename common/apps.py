from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared dashboard pieces; installed so that `{% load common %}` finds its template filters."""

    name = "common"

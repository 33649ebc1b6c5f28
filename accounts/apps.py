from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    default = True

    def ready(self) -> None:
        from . import receivers  # the security log's signal receivers (K27)

        receivers.connect()


class SecureAdminConfig(admin_apps.AdminConfig):
    """Django's admin app, served by `accounts.admin_site.SecureAdminSite`."""

    default = False
    default_site = "accounts.admin_site.SecureAdminSite"

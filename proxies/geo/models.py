"""The geo directory (SPEC 3.2/3.3): countries, their top-level subdivisions, cities, ZIP codes.

Loaded from maintained data packages by `manage.py load_geo`; never edited by hand.  Every list
query filters by country first, so its cost follows one country's rows, not the table's size.
"""

from django.db import models


class Country(models.Model):
    """An ISO 3166-1 country.  The id is the ISO numeric code, so it is stable across reloads."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=100, db_index=True)

    class Meta:
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class State(models.Model):
    """A top-level ISO 3166-2 subdivision (state, province, region) of a country."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="states")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=150)
    extract_parameter = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="geo_state_country_code")
        ]
        indexes = [models.Index(fields=["country", "name"], name="geo_state_country_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_id})"


class City(models.Model):
    """A GeoNames city.  The id is the GeoNames id, stable across reloads."""

    id = models.PositiveIntegerField(primary_key=True)
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="cities")
    state = models.ForeignKey(
        State, on_delete=models.SET_NULL, null=True, blank=True, related_name="cities"
    )
    name = models.CharField(max_length=200)
    extract_parameter = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "cities"
        indexes = [
            models.Index(fields=["country", "name"], name="geo_city_country_name_idx"),
            models.Index(fields=["state", "name"], name="geo_city_state_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ZipCode(models.Model):
    """A postal code with the city and state it belongs to."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="zip_codes")
    code = models.CharField(max_length=10)
    city = models.CharField(max_length=200)
    state = models.ForeignKey(
        State, on_delete=models.SET_NULL, null=True, blank=True, related_name="zip_codes"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="geo_zip_country_code")
        ]
        indexes = [models.Index(fields=["country", "city"], name="geo_zip_country_city_idx")]

    def __str__(self) -> str:
        return self.code

"""Account pages, all from django-allauth (AS1): /accounts/login/, /accounts/signup/, e-mail
verification, password reset and change, and two-factor authentication under /accounts/2fa/."""

from django.urls import include, path

urlpatterns = [
    path("", include("allauth.urls")),
]

"""The sign-up form: allauth's, made safe against two sign-ups racing for one identity (AS2)."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.shortcuts import render


class SignupForm(AllauthSignupForm):
    """allauth checks that the username and address are free before saving; a concurrent sign-up
    can take them in between, and then the database constraints refuse the second insert.  That
    loser gets the same answers as if it had come second in line: for a taken address the
    enumeration-safe "check your e-mail" page (the owner is told), for a taken username the form
    again with the error.  Never a 500, never a half-written account."""

    def try_save(self, request):
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            email = self.cleaned_data.get("email", "")
            if get_user_model().objects.filter(email__iexact=email).exists():
                self.account_already_exists = True
                return super().try_save(request)
            self.add_error("username", "A user with that username already exists.")
            raise ImmediateHttpResponse(
                render(request, "account/signup.html", {"form": self})
            ) from None

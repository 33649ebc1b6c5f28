"""Sign-up; login, logout and password change are Django's own views (see urls.py)."""

from django.contrib.auth import login
from django.urls import reverse_lazy
from django.views.generic import FormView

from .forms import SignUpForm


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm
    success_url = reverse_lazy("apikeys:list")

    def form_valid(self, form):
        user = form.save()
        login(self.request, user, backend="accounts.backends.EmailOrUsernameBackend")
        return super().form_valid(form)

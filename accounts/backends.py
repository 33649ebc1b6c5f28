"""Log in with either the username or the email address (SPEC 1)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class EmailOrUsernameBackend(ModelBackend):
    """Accepts a username or an email address (case-insensitive) in the username field."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        candidates = list(
            User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).order_by(
                "id"
            )[:2]
        )
        # An exact username match wins over an email that happens to equal another's username.
        user = next((u for u in candidates if u.username == username), None)
        if user is None and len(candidates) == 1:
            user = candidates[0]
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle for usernames
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

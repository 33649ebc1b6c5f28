"""The real routes plus test-only views under /v1/test/ (see tests/api/test_envelope.py).

Test routes come first: the real list ends with the /v1/ catch-all that answers 404.  The error
handlers are re-exported because Django reads them from the active ROOT_URLCONF.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as real_urlpatterns
from tests.api import test_envelope as views

urlpatterns = [
    path("v1/test/echo", views.EchoAPIView.as_view()),
    path("v1/test/boom", views.BoomAPIView.as_view()),
    # A plain Django view: the API has no session sign-in, so mark it like the DRF views are.
    path("v1/test/plain-boom", login_not_required(views.plain_boom)),
    *real_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]

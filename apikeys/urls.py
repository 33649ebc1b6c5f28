from django.urls import path

from . import views

app_name = "apikeys"

urlpatterns = [
    path("", views.APIKeyListView.as_view(), name="list"),
    path("new/", views.APIKeyCreateView.as_view(), name="create"),
    path("<int:pk>/", views.APIKeyDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.APIKeyEditView.as_view(), name="edit"),
    path("<int:pk>/revoke/", views.APIKeyRevokeView.as_view(), name="revoke"),
    path("<int:pk>/rotate/", views.APIKeyRotateView.as_view(), name="rotate"),
]

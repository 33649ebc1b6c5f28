from django.urls import path

from . import views

app_name = "proxies"

urlpatterns = [
    path("", views.ProxyListView.as_view(), name="list"),
    path("new/", views.ProxyCreateView.as_view(), name="create"),
    path("<slug:public_id>/edit/", views.ProxyUpdateView.as_view(), name="edit"),
    path("<slug:public_id>/delete/", views.ProxyDeleteView.as_view(), name="delete"),
]

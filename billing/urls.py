from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.BillingView.as_view(), name="overview"),
]

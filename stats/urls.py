from django.urls import path

from . import views

app_name = "stats"

urlpatterns = [
    path("", views.StatisticsView.as_view(), name="overview"),
    path("export/<slug:public_id>.csv", views.UsageExportView.as_view(), name="export"),
]

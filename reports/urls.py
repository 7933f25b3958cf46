from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("deployments/<int:deployment_id>/", views.deployment_report, name="deployment"),
    path("deployments/<int:deployment_id>/figures.csv", views.deployment_csv, name="deployment_csv"),
    path("<int:year>/", views.period_report, name="year"),
    path("<int:year>/figures.csv", views.period_csv, name="year_csv"),
    path("<int:year>/<int:month>/", views.period_report, name="month"),
    path("<int:year>/<int:month>/figures.csv", views.period_csv, name="month_csv"),
]

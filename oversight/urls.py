from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("", views.subject_access, name="subject_access"),
    path("<int:subject_id>/report/", views.subject_access_report, name="subject_access_report"),
    path("<int:subject_id>/report.csv", views.subject_access_report_csv, name="subject_access_report_csv"),
]

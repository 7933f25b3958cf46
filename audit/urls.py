from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("events/<int:sequence>/", views.audit_event_detail, name="event"),
    path("export/", views.audit_export, name="export"),
]

from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.live_index, name="live_index"),
    path("deployments/<int:deployment_id>/live/", views.live_page, name="live"),
    path("deployments/<int:deployment_id>/test-walks/", views.test_walk_record, name="test_walk_record"),
    path("deployments/<int:deployment_id>/alerts.json", views.deployment_alerts_json, name="deployment_alerts_json"),
    path("<int:alert_id>/probe.jpg", views.probe_image, name="probe_image"),
    path("<int:alert_id>/reference.jpg", views.reference_image, name="reference_image"),
    path("<int:alert_id>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("<int:alert_id>/engagement/", views.engagement, name="engagement"),
    path("<int:alert_id>/adjudications/<int:adjudication_id>/amend/", views.amend, name="amend"),
]

from django.urls import path

from alerts.consumers import DeploymentAlertsConsumer

websocket_urlpatterns = [
    path("ws/deployments/<int:deployment_id>/alerts/", DeploymentAlertsConsumer.as_asgi()),
]

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts.receivers import on_deployment_outputs_discard
        from deployments.signals import deployment_outputs_discard

        deployment_outputs_discard.connect(on_deployment_outputs_discard, dispatch_uid="alerts_outputs_discard")

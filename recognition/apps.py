from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from deployments.signals import deployment_state_changed
        from recognition.signals import on_alert_saved, on_deployment_state_changed

        deployment_state_changed.connect(on_deployment_state_changed, dispatch_uid="recognition_state_changed")
        post_save.connect(on_alert_saved, sender="alerts.Alert", dispatch_uid="recognition_alert_delivery_latency")

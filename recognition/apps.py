from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from deployments.signals import deployment_state_changed
        from recognition.signals import on_deployment_state_changed

        deployment_state_changed.connect(on_deployment_state_changed, dispatch_uid="recognition_state_changed")

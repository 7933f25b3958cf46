from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import auth_audit, login_throttle, mfa  # noqa: F401  (they register system checks)
        from accounts.selectors import user_roles
        from audit.services import actor_roles_provider_set

        post_migrate.connect(_sync_roles_after_migrate, sender=self)
        auth_audit.connect()
        actor_roles_provider_set(lambda user: user_roles(user=user))  # the roles cached for the request


def _sync_roles_after_migrate(sender, **kwargs) -> None:
    from accounts.services import roles_sync

    roles_sync()

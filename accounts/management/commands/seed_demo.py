from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_USERS, demo_password
from accounts.services import user_create, user_roles_set


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent) and print the logins."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with LFR_ENV=production")
        User = get_user_model()
        for username, full_name, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user_create(actor=None, username=username, password=demo_password(username), roles=[role],
                            full_name=full_name)
            else:
                user.set_password(demo_password(username))
                user.is_active = True
                user.save(update_fields=["password", "is_active"])
                if list(user.groups.values_list("name", flat=True)) != [role.value]:
                    user_roles_set(actor=None, user=user, roles=[role])
        self.stdout.write("Demo logins (username / password / role):")
        for username, _, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {demo_password(username):<26} {role.label}")

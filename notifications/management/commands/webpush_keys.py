from django.core.management.base import BaseCommand

from notifications.vapid_keys import vapid_keys_new


class Command(BaseCommand):
    help = "Print a new VAPID key pair as the environment lines Web Push needs (docs/configuration.md)."

    def handle(self, *args, **options) -> None:
        public, private = vapid_keys_new()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}\nWEBPUSH_VAPID_PRIVATE_KEY={private}\n"
                          "WEBPUSH_VAPID_SUBJECT=mailto:\n")

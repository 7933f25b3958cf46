import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django_otp.oath import TOTP

from accounts.selectors import mfa_device
from audit.actions import AuditAction
from audit.commands import AuditedCommand
from audit.services import audit_record


class Command(AuditedCommand):
    help = ("Development and demo only: print the code a user's authenticator shows now (enrolled, or being "
            "set up), for trying the portal without a phone. Refused with LFR_ENV=production; audited.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("mfa_code refuses to run with LFR_ENV=production")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        device = mfa_device(user=user) or mfa_device(user=user, confirmed=False)
        if device is None:
            raise CommandError(f"{username} has no authenticator yet: sign in as {username} first, which shows "
                               "the set-up page, then run this again")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        audit_record(actor=None, action=AuditAction.MFA_CODE_SHOWN, target=user, details={"by": "manage.py mfa_code"})
        left = device.step - int(totp.time - device.t0) % device.step
        self.stdout.write(f"{totp.token():0{device.digits}d}  (valid for {left} more seconds, single use)")

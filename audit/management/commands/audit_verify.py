from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain and name the first broken link (exit status 1 if any)."

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(f"audit chain BROKEN at event #{report.broken_sequence}: {report.reason} "
                               f"({report.checked} events before it verified)")
        if report.checked == 0:
            self.stdout.write(self.style.SUCCESS("audit chain OK: no events yet"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"audit chain OK: {report.checked} events, head #{report.head_sequence} {report.head_hash}"))

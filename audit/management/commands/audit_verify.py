from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify
from audit.verify_export import verify_export


class Command(BaseCommand):
    help = ("Walk the audit hash chain and name the first broken link (exit status 1 if any); with --export, "
            "verify an exported bundle (or events file with its manifest.json beside it) offline instead.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--export", metavar="FILE",
                            help="an export bundle (.zip), or its events.csv / events.jsonl with manifest.json beside it")

    def handle(self, *args, **options) -> None:
        if options.get("export"):
            self._verify_export(options["export"])
            return
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(f"audit chain BROKEN at event #{report.broken_sequence}: {report.reason} "
                               f"({report.checked} events before it verified)")
        if report.checked == 0:
            self.stdout.write(self.style.SUCCESS("audit chain OK: no events yet"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"audit chain OK: {report.checked} events, head #{report.head_sequence} {report.head_hash}"))

    def _verify_export(self, path: str) -> None:
        report = verify_export(path)
        if not report.ok:
            raise CommandError(f"{report.describe()} ({report.checked} events before it verified)")
        self.stdout.write(self.style.SUCCESS(report.describe()))

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.anchor_file import AnchorFileError, read_key
from audit.selectors import audit_chain_verify
from audit.verify_export import verify_export


class Command(BaseCommand):
    help = ("Walk the audit hash chain and name the first broken link (exit status 1 if any), comparing it with "
            "the anchors in the database and in the anchor file outside it; with --export, verify an exported "
            "bundle (or events file with its manifest.json beside it) offline instead.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--export", metavar="FILE",
                            help="an export bundle (.zip), or its events.csv / events.jsonl with manifest.json beside it")
        parser.add_argument("--anchor-file", metavar="FILE",
                            help="the anchor file written by the anchor worker (default: AUDIT_ANCHOR_FILE)")
        parser.add_argument("--anchor-key-file", metavar="FILE",
                            help="the anchor key, to check each line's signature (default: AUDIT_ANCHOR_KEY_FILE)")

    def handle(self, *args, **options) -> None:
        if options.get("export"):
            self._verify_export(options["export"])
            return
        anchor_file, key = self._anchor_file(options.get("anchor_file"), options.get("anchor_key_file"))
        report = audit_chain_verify(anchor_file=anchor_file, anchor_key=key)
        if not report.ok:
            at = f"event #{report.broken_sequence}" if report.broken_sequence is not None else "the anchor file"
            raise CommandError(f"audit chain BROKEN at {at}: {report.reason} "
                               f"({report.checked} events before it verified)")
        if report.checked == 0:
            self.stdout.write(self.style.SUCCESS("audit chain OK: no events yet"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"audit chain OK: {report.checked} events, head #{report.head_sequence} {report.head_hash}"))
        if anchor_file is not None:
            signed = "signatures checked" if report.file_anchors_signed else "signatures NOT checked (no key given)"
            self.stdout.write(f"anchor file {anchor_file}: {report.file_anchors} anchors matched, {signed}")

    def _anchor_file(self, given: str | None, key_file: str | None) -> tuple[str | None, bytes | None]:
        path = given or settings.AUDIT_ANCHOR_FILE or None
        if path is None:
            return None, None
        if not Path(path).exists():
            if given:
                raise CommandError(f"the anchor file {path} does not exist")
            self.stdout.write(self.style.WARNING(f"anchor file {path} does not exist yet: no anchors outside the "
                                                 "database to compare with"))
            return None, None
        key_file = key_file or settings.AUDIT_ANCHOR_KEY_FILE or None
        try:
            return path, read_key(key_file) if key_file else None
        except (AnchorFileError, OSError) as exc:
            raise CommandError(f"cannot read the anchor key: {exc}") from exc

    def _verify_export(self, path: str) -> None:
        report = verify_export(path)
        if not report.ok:
            raise CommandError(f"{report.describe()} ({report.checked} events before it verified)")
        self.stdout.write(self.style.SUCCESS(report.describe()))

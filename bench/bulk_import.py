"""Bulk enrolment of a whole watchlist from real faces, timed end to end.

    .venv/bin/python bench/bulk_import.py [--subjects 2500] [--dataset ../shared/data/faces/lfw-dev]

Builds the CSV + zip a force would upload (one row and one image per identity: the first image of
each of the first N identities, sorted by name), starts a fresh embedded PostgreSQL + Redis under
var/bench/, migrates, and runs the same import code the portal and `manage.py bulk_import` use.
Prints the time and writes bench/results/bulk_import.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_upload(dataset: Path, subjects: int) -> tuple[bytes, bytes]:
    identities = sorted(p for p in dataset.iterdir() if p.is_dir())[:subjects]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["reference", "name", "category", "reason", "legal_basis", "image", "image_source"])
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w", zipfile.ZIP_STORED) as archive:
        for number, identity in enumerate(identities):
            image = sorted(identity.iterdir())[0]
            archive.write(image, f"{identity.name}/{image.name}")
            writer.writerow([f"BENCH-{number:05d}", identity.name.replace("_", " "), "suspected_of_offence",
                             "Benchmark subject", "PACE s.24", f"{identity.name}/{image.name}", f"LFW {image.name}"])
    return text.getvalue().encode(), archive_bytes.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=2500)
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "data" / "faces" / "lfw-dev")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bulk_import.json")
    args = parser.parse_args()
    if not args.dataset.is_dir():
        print(f"dataset not found at {args.dataset}; nothing to measure")
        return 0

    from bench.services import django_on_fresh_services

    with django_on_fresh_services(ROOT / "var" / "bench"):
        from django.core.management import call_command

        from accounts.roles import Role
        from accounts.services import user_create
        from watchlists.bulk_import import bulk_import_run, bulk_import_start
        from watchlists.services import watchlist_create

        call_command("migrate", verbosity=0)
        detective = user_create(actor=None, username="bench", password="bench-password-1", roles=[Role.DETECTIVE])
        watchlist = watchlist_create(actor=detective, name="Benchmark", purpose="bulk enrolment benchmark")
        built = time.monotonic()
        csv_data, zip_data = build_upload(args.dataset, args.subjects)
        print(f"built upload: {args.subjects} rows, zip {len(zip_data) / 1e6:.1f} MB in {time.monotonic() - built:.1f} s")

        from recognition.runtime import face_engine

        face_engine()  # model loading is a worker's start-up cost, not the import's
        started = time.monotonic()
        job = bulk_import_start(actor=detective, watchlist=watchlist, csv_file=io.BytesIO(csv_data),
                                zip_file=io.BytesIO(zip_data), enqueue=False)

        def progress(j):
            rate = j.processed_rows / (time.monotonic() - started)
            print(f"\r{j.processed_rows}/{j.total_rows} rows  {rate:.1f} rows/s", end="", flush=True)

        job = bulk_import_run(import_id=job.pk, progress=progress)
        elapsed = time.monotonic() - started
        print()
        result = {
            "subjects": job.total_rows, "seconds": round(elapsed, 1), "rows_per_second": round(job.total_rows / elapsed, 1),
            "enrolled": job.enrolled, "refused": job.refused, "duplicates": job.duplicates,
            "refusal_reasons": _reason_counts(job.report),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "command": f"python bench/bulk_import.py --subjects {args.subjects:d}",
        }
        print(json.dumps(result, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _reason_counts(report: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in report:
        if row["status"] in ("refused", "duplicate"):
            key = row["status"] if row["status"] == "duplicate" else row["detail"].split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    raise SystemExit(main())

"""Subject access search at scale: how long one search takes against years of manifests and alerts.

    .venv/bin/python bench/subject_access.py [--subjects 10000] [--deployments 200] [--alerts 20000]
                                         [--out bench/results/subject_access.json]

A fresh embedded PostgreSQL under var/bench-subject-access/, migrated, then filled with bulk inserts
(no images, no enrolment: the search never reads them): subjects with generated names (some accented),
deployments each with a manifest of 2,500 of them, and alerts. Times `subject_access_search` (the
selector the page and the API call, audit event included) for an exact reference, a rare name and a
common name part; prints the fastest and median of 5 runs and writes them to --out
(bench/results/subject_access.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import timing  # noqa: E402

FIRST = ["Alex", "Sam", "Jo", "Zoë", "José", "Chloé", "Ahmed", "Priya", "Kai", "Niamh", "Łukasz", "Søren"]
LAST = ["Smith", "Jones", "Álvarez", "Müller", "O'Brien", "Nowak", "Patel", "Khan", "Brown", "Dubois", "Núñez"]
MANIFEST_SIZE = 2500


def fill(subjects: int, deployments: int, alerts: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from alerts.models import Alert
    from deployments.models import Camera, Deployment, ManifestEntry
    from watchlists.models import Subject, Watchlist

    rng = random.Random(7)
    user = get_user_model().objects.create_user(username="bench")
    today = timezone.localdate()
    rows = [Subject(reference=f"PNC-{i:07d}", name=f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i}",
                    category="suspected_of_offence", reason="Wanted for robbery", legal_basis="PACE s.24", added_by=user,
                    review_date=today, expires_on=today + dt.timedelta(days=365)) for i in range(subjects)]
    Subject.objects.bulk_create(rows, batch_size=5000)
    ids = list(Subject.objects.values_list("pk", "reference", "name"))
    watchlist = Watchlist.objects.create(name="Bench", purpose="bench", compiled_by=user)
    camera = Camera.objects.create(name="Cam", source_url="file:///dev/null", location="High Street", created_by=user)
    start = timezone.now() - dt.timedelta(days=3 * 365)
    plans = Deployment.objects.bulk_create([
        Deployment(name=f"Deployment {d}", purpose="crime_hotspot", location=f"Street {d}", location_reason="r",
                   starts_at=start + dt.timedelta(days=5 * d), ends_at=start + dt.timedelta(days=5 * d, hours=6),
                   watchlist=watchlist, threshold=0.6, necessity_statement="n", dpia_reference="D", created_by=user,
                   state="completed") for d in range(deployments)])
    for deployment in plans:
        ManifestEntry.objects.bulk_create([
            ManifestEntry(deployment=deployment, subject_id=pk, subject_reference=ref, name=name,
                          category="suspected_of_offence") for pk, ref, name in rng.sample(ids, MANIFEST_SIZE)],
            batch_size=5000)
    Alert.objects.bulk_create([
        Alert(deployment=rng.choice(plans), camera=camera, frame_time=timezone.now(), track_id=i, subject_id=pk,
              subject_reference=ref, subject_name=name, category="suspected_of_offence", reason="r", priority="medium",
              score=0.7, threshold=0.6, model_id="m", probe_file=f"alerts/{i}.jpg")
        for i, (pk, ref, name) in enumerate(rng.choice(ids) for _ in range(alerts))], batch_size=5000)
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(function) -> dict:
    figures, result = timing.timed(function)
    return {**figures, "people": len(result.people), "records": result.record_count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "subject_access.json")
    args = parser.parse_args()

    from bench.services import django_on_fresh_services

    with django_on_fresh_services(ROOT / "var" / "bench-subject-access"):
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        fill(args.subjects, args.deployments, args.alerts)
        print(f"filled in {time.perf_counter() - began:.0f} s")
        from django.contrib.auth import get_user_model

        from oversight.subject_access import subject_access_search

        searcher = get_user_model().objects.create_user(username="oversight")
        searcher.groups.set(Group.objects.filter(name="oversight"))
        queries = {"exact reference": "PNC-0004242", "rare name": "-4242", "common name part": "zoe alvarez"}
        figures = {label: timed(lambda q=q: subject_access_search(user=searcher, query=q))
                   for label, q in queries.items()}
        result = {"host": platform.node(), "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                  "subjects": args.subjects, "deployments": args.deployments,
                  "manifest_rows": args.deployments * MANIFEST_SIZE, "alerts": args.alerts, "searches": figures}
        print(json.dumps(result, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Statistics at scale: how long a year's transparency report, a month's and one deployment's figures take.

    .venv/bin/python bench/reports.py [--deployments 365] [--cameras 4] [--hours 6] [--alerts 20000]
                                  [--out bench/results/reports.json]

A fresh embedded PostgreSQL under var/bench-reports/, migrated, then filled with bulk inserts: one
deployment a day through 2025, each live for --hours on --cameras cameras, a CameraMinuteCount row per
camera per live minute, and --alerts AlertRecords spread over the deployments with every outcome and some
demographics. Times the selectors the pages call (fastest and median of 5 runs), prints the figures and
writes them to --out (bench/results/reports.json).
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
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import timing  # noqa: E402

LONDON = zoneinfo.ZoneInfo("Europe/London")


def fill(deployments: int, cameras: int, hours: int, alerts: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from alerts.models import AlertRecord
    from deployments.models import Camera, Deployment, DeploymentTransition
    from recognition.models import CameraMinuteCount
    from watchlists.models import Watchlist

    rng = random.Random(7)
    user = get_user_model().objects.create_user(username="bench")
    watchlist = Watchlist.objects.create(name="Bench", purpose="bench", compiled_by=user)
    cams = Camera.objects.bulk_create([Camera(name=f"Cam {c}", source_url="file:///dev/null", location="Street",
                                              created_by=user) for c in range(cameras)])
    first = dt.datetime(2025, 1, 1, 10, tzinfo=LONDON)
    plans = Deployment.objects.bulk_create([
        Deployment(name=f"Deployment {d}", purpose="crime_hotspot", location=f"Street {d}", location_reason="r",
                   starts_at=first + dt.timedelta(days=d), ends_at=first + dt.timedelta(days=d, hours=hours),
                   watchlist=watchlist, threshold=0.6, necessity_statement="n", dpia_reference="D", created_by=user,
                   state="completed") for d in range(deployments)])
    Through = Deployment.cameras.through
    Through.objects.bulk_create([Through(deployment=d, camera=c) for d in plans for c in cams], batch_size=5000)
    DeploymentTransition.objects.bulk_create([
        DeploymentTransition(deployment=d, from_state=f, to_state=t, note="bench")
        for d in plans for f, t in (("authorised", "live"), ("live", "completed"))], batch_size=5000)
    with connection.cursor() as cursor:  # `at` is auto_now_add: put each transition at its window's edge
        cursor.execute("""UPDATE deployments_deploymenttransition t SET at = CASE WHEN t.to_state = 'live'
                          THEN d.starts_at ELSE d.ends_at END FROM deployments_deployment d
                          WHERE d.id = t.deployment_id""")
    minutes = hours * 60
    for d in plans:
        CameraMinuteCount.objects.bulk_create([
            CameraMinuteCount(deployment=d, camera=c, minute=d.starts_at + dt.timedelta(minutes=m),
                              faces=rng.randint(0, 40), frames=600) for c in cams for m in range(minutes)],
            batch_size=5000)
    statuses = ["confirmed", "not_a_match", "cannot_tell", "pending"]
    records = []
    for _ in range(alerts):
        d = rng.choice(plans)
        raised = d.starts_at + dt.timedelta(seconds=rng.randint(0, minutes * 60 - 1))
        status = rng.choice(statuses)
        records.append(AlertRecord(
            deployment=d, camera=rng.choice(cams), raised_at=raised, status=status,
            first_decided_at=None if status == "pending" else raised + dt.timedelta(seconds=rng.randint(10, 900)),
            engaged=True if status == "confirmed" else None,
            result=rng.choice(["arrested", "words_of_advice", ""]) if status == "confirmed" else "",
            ethnicity=rng.choice(["IC1", "IC3", "IC4", ""]) if status == "not_a_match" else ""))
    AlertRecord.objects.bulk_create(records, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(function) -> dict:
    from django.db import connection, reset_queries

    figures, result = timing.timed(function, before_each=reset_queries)
    return {**figures, "queries": len(connection.queries), "result": result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=365)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reports.json")
    args = parser.parse_args()

    from bench.services import django_on_fresh_services

    with django_on_fresh_services(ROOT / "var" / "bench-reports"):
        from django.conf import settings
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        settings.DEBUG = True  # to count queries
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        fill(args.deployments, args.cameras, args.hours, args.alerts)
        print(f"filled in {time.perf_counter() - began:.0f} s")
        from django.contrib.auth import get_user_model

        from alerts.models import AlertRecord
        from recognition.models import CameraMinuteCount
        from reports.selectors import deployment_statistics, month_period, period_statistics, year_period

        reader = get_user_model().objects.create_user(username="oversight")
        reader.groups.set(Group.objects.filter(name="oversight"))
        some = AlertRecord.objects.values_list("deployment_id", flat=True).first()

        def year():
            start, end, title = year_period(2025)
            report = period_statistics(user=reader, start=start, end=end, title=title)
            return {"deployments": len(report.deployments), "faces": report.totals.faces, "alerts": report.totals.alerts}

        def month():
            start, end, title = month_period(2025, 6)
            report = period_statistics(user=reader, start=start, end=end, title=title)
            return {"deployments": len(report.deployments), "faces": report.totals.faces, "alerts": report.totals.alerts}

        def one():
            figures = deployment_statistics(user=reader, deployment_id=some).figures
            return {"faces": figures.faces, "alerts": figures.alerts}

        result = {"host": platform.node(), "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                  "deployments": args.deployments, "cameras": args.cameras, "hours_each": args.hours,
                  "minute_count_rows": CameraMinuteCount.objects.count(), "alert_records": args.alerts,
                  "year_report": timed(year), "month_report": timed(month), "deployment": timed(one)}
        print(json.dumps(result, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The audit log at a million events: page queries, export throughput, offline verification.

    .venv/bin/python bench/audit_log.py [--events 1000000] [--out bench/results/audit_log.json]

Starts a fresh embedded PostgreSQL + Redis under var/bench-audit/, migrates, and fills the chain with
`--events` events spread over a year (200 users in every role, 500 deployments, a realistic mix of
actions) with valid hashes computed in Python by audit/chain.py and inserted with COPY (the
append-only trigger refuses only UPDATE and DELETE). Then it times:

- the audit page queries (`audit_event_page`, the one query a page runs; median of 7 after a warm-up)
  and the whole page through Django's test client (median of 5), with the plan PostgreSQL chose;
- the export of the whole log as a zip (CSV and JSON Lines) through the export view: events/s and the
  peak growth of the process's resident memory while streaming (sampled every 10 ms);
- `manage.py audit_verify --export` on each bundle, and the standalone verify_export.py on the CSV one;
- `manage.py audit_verify` over the whole chain.

Prints the figures and writes them as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = ("sequence", "occurred_at", "actor_id", "actor_username", "actor_roles", "action", "target_type",
           "target_id", "deployment_id", "details", "client_ip", "prev_hash", "hash")
# (action, weight, who does it, what it is about)
ACTIONS = [
    ("alert.created", 220, "system", "alert"),
    ("alert.viewed", 150, "officer", "alert"),
    ("alert.adjudicated", 80, "officer", "alert"),
    ("alert.probe_viewed", 60, "officer", "alert"),
    ("auth.login", 120, "anyone", "user"),
    ("auth.logout", 60, "anyone", "user"),
    ("subject.viewed", 120, "detective", "subject"),
    ("reference_image.viewed", 80, "detective", "image"),
    ("subject.updated", 30, "detective", "subject"),
    ("watchlist.viewed", 30, "oversight", "watchlist"),
    ("deployment.viewed", 10, "authorising_officer", "deployment"),
    ("deployment.authorised", 1, "authorising_officer", "deployment"),
    ("deployment.started", 1, "system", "deployment"),
    ("watchlist.approved", 1, "authorising_officer", "watchlist"),
    ("audit.exported", 0.2, "oversight", None),
    ("user.created", 0.3, "admin", "user"),
]
ROLE_MIX = ["detective"] * 60 + ["officer"] * 100 + ["authorising_officer"] * 20 + ["oversight"] * 12 + ["admin"] * 8


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "audit_log.json")
    args = parser.parse_args()

    from bench.services import django_on_fresh_services

    var = ROOT / "var" / "bench-audit"
    with django_on_fresh_services(var):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        result = {"events": args.events, "load_average_at_start": os.getloadavg()}
        users = make_users()
        result["fill"] = fill(args.events, users)
        print(f"filled {args.events:,} events in {result['fill']['seconds']} s")
        result["sizes_mb"] = table_sizes()
        result["pages"] = time_pages(users)
        result["export"], bundles = time_exports(var)
        result["verify_export"] = time_verify(bundles)
        result["audit_verify_chain"] = time_chain_verify()
        result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                             "postgres": postgres_version(), "python": platform.python_version()}
        result["load_average_at_end"] = os.getloadavg()
        result["command"] = f"python bench/audit_log.py --events {args.events}"
        print(json.dumps(result, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


# --- data ----------------------------------------------------------------------------------------

def make_users() -> list:
    from django.contrib.auth.models import Group, User

    groups = {g.name: g for g in Group.objects.all()}
    users = []
    for number, role in enumerate(ROLE_MIX):
        user = User.objects.create_user(username=f"{role}_{number:03d}", password=None)
        user.groups.set([groups[role]])
        user.role = role
        users.append(user)
    return users


def fill(count: int, users: list) -> dict:
    """COPY `count` chained events; hashes computed as audit_record would."""
    from django.db import connection

    from audit.chain import GENESIS_HASH, canonical_json, event_hash, format_time

    rng = random.Random(1)
    by_role: dict[str, list] = {}
    for user in users:
        by_role.setdefault(user.role, []).append(user)
    names, weights = [a[0] for a in ACTIONS], [a[1] for a in ACTIONS]
    kinds = {a[0]: a[2:] for a in ACTIONS}
    start = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    step = dt.timedelta(days=365) / count
    alert_id = 0

    def rows():
        nonlocal alert_id
        previous = GENESIS_HASH
        for sequence in range(1, count + 1):
            action = rng.choices(names, weights)[0]
            who, about = kinds[action]
            actor = None
            if who == "anyone":
                actor = rng.choice(users)
            elif who != "system":
                actor = rng.choice(by_role[who])
            deployment = rng.randrange(1, 501) if about == "alert" or about == "deployment" else None
            details: dict = {}
            target = ("", "")
            if about == "alert":
                if action == "alert.created":
                    alert_id += 1
                    details = {"score": round(rng.uniform(0.6, 0.95), 4), "camera": rng.randrange(1, 9)}
                target = ("alerts.alert", str(rng.randrange(max(1, alert_id - 50), alert_id + 1)))
                if action == "alert.adjudicated":
                    details = {"outcome": rng.choice(["confirmed_engaged", "not_a_match", "could_not_locate"]),
                               "notes": rng.choice(["", "Spoke to him at the café", "Négatif"])}
            elif about == "subject":
                target = ("watchlists.subject", str(rng.randrange(1, 2501)))
            elif about == "image":
                target = ("watchlists.referenceimage", str(rng.randrange(1, 3001)))
            elif about == "watchlist":
                target = ("watchlists.watchlist", str(rng.randrange(1, 40)))
            elif about == "deployment":
                target = ("deployments.deployment", str(deployment))
            elif about == "user" and actor is not None:
                target = ("auth.user", str(actor.pk))
            fields = {
                "sequence": sequence,
                "occurred_at": start + step * sequence + dt.timedelta(microseconds=rng.randrange(1000)),
                "actor_id": actor.pk if actor else None,
                "actor_username": actor.username if actor else "",
                "actor_roles": [actor.role] if actor else [],
                "action": action,
                "target_type": target[0],
                "target_id": target[1],
                "deployment_id": deployment,
                "details": details,
                "client_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" if actor else None,
                "prev_hash": previous,
            }
            moment = fields["occurred_at"]
            fields["occurred_at"] = format_time(moment)
            digest = event_hash(fields)
            previous = digest
            yield (sequence, moment, fields["actor_id"], fields["actor_username"], canonical_json(fields["actor_roles"]),
                   action, target[0], target[1], deployment, canonical_json(details), fields["client_ip"],
                   fields["prev_hash"], digest)
            if sequence % 100_000 == 0:
                print(f"  {sequence:,} events", flush=True)

    started = time.monotonic()
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        cursor.execute("ANALYZE audit_auditevent")
    return {"seconds": round(time.monotonic() - started, 1), "method": "hashes in Python, COPY (indexes in place)"}


def table_sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('audit_auditevent'), pg_relation_size('audit_auditevent')")
        total, table = cursor.fetchone()
        cursor.execute("SELECT indexname, pg_relation_size(quote_ident(indexname)::regclass) FROM pg_indexes "
                       "WHERE tablename = 'audit_auditevent' ORDER BY 1")
        indexes = {name: round(size / 1e6, 1) for name, size in cursor.fetchall()}
    return {"total": round(total / 1e6, 1), "table": round(table / 1e6, 1), "indexes": indexes}


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# --- pages ---------------------------------------------------------------------------------------

def oversight_client(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def median_ms(call, repeats: int) -> float:
    from bench.timing import timed_runs

    times, _ = timed_runs(call, repeats)
    return round(statistics.median(times), 2)


def plan_of(call) -> dict:
    """EXPLAIN ANALYZE of the audit query a call runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    sql = [q["sql"] for q in captured.captured_queries if "audit_auditevent" in q["sql"]][-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    nodes = []

    def walk(node, depth=0):
        label = node["Node Type"]
        if "Index Name" in node:
            label += f" using {node['Index Name']}"
        if node.get("Scan Direction") == "Backward":
            label += " (backward)"
        nodes.append("  " * depth + f"{label}: rows {node.get('Actual Rows')}")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"])
    return {"execution_ms": round(plan["Execution Time"], 2), "plan": nodes,
            "shared_buffers_read": plan["Plan"].get("Shared Read Blocks", 0) + plan["Plan"].get("Shared Hit Blocks", 0)}


def time_pages(users) -> dict:
    from django.contrib.auth.models import Group, User
    from django.urls import reverse

    from accounts.roles import Role
    from audit.filters import AuditFilter
    from audit.models import AuditEvent
    from audit.selectors import audit_event_page

    viewer = User.objects.create_user(username="bench_oversight", password=None)
    viewer.groups.set(Group.objects.filter(name=Role.OVERSIGHT))
    client = oversight_client(viewer)
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    actor = next(u for u in users if u.role == "detective")
    middle_day = dt.date(2026, 5, 1)
    cases = {
        "first page, unfiltered": ({}, {}),
        "deep page, unfiltered (before=1000)": ({}, {"before": 1000}),
        "actor (one detective, ~0.5% of events)": ({"actor": actor.username}, {}),
        "actor, deep page (before=head/10)": ({"actor": actor.username}, {"before": head // 10}),
        "action exact, common (alert.adjudicated, 8%)": ({"action": "alert.adjudicated"}, {}),
        "action exact, rare (deployment.authorised, 0.1%)": ({"action": "deployment.authorised"}, {}),
        "action exact, rare, deep page (before=head/10)": ({"action": "deployment.authorised"}, {"before": head // 10}),
        "action prefix (alert.)": ({"action": "alert."}, {}),
        "deployment (one of 500)": ({"deployment_id": 250}, {}),
        "role, common (officer)": ({"role": "officer"}, {}),
        "role, rare (admin)": ({"role": "admin"}, {}),
        "role, rare, deep page (before=head/10)": ({"role": "admin"}, {"before": head // 10}),
        "period, one day six months back": ({"date_from": middle_day, "date_to": middle_day}, {}),
        "period, one day a year back": ({"date_from": dt.date(2025, 11, 2), "date_to": dt.date(2025, 11, 2)}, {}),
        "object (one subject)": ({"target_type": "watchlists.subject", "target_id": "1234"}, {}),
        "actor + period (one month)": ({"actor": actor.username, "date_from": dt.date(2026, 2, 1),
                                        "date_to": dt.date(2026, 2, 28)}, {}),
    }
    names = {"deployment_id": "deployment"}
    results = {}
    for label, (criteria, cursor) in cases.items():
        filters = AuditFilter(**criteria)

        def query(filters=filters, cursor=cursor):
            return audit_event_page(user=viewer, filters=filters, **cursor)

        page = query()
        params = {names.get(k, k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in criteria.items()}
        params |= cursor
        url = reverse("audit:log")

        def get(params=params, url=url):
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code
            return response

        results[label] = {
            "rows": len(page.events),
            "query_ms": median_ms(query, 7),
            "page_ms": median_ms(get, 5),
            **plan_of(query),
        }
        print(f"{label:55s} query {results[label]['query_ms']:8.2f} ms  page {results[label]['page_ms']:8.2f} ms  "
              f"rows {len(page.events)}  plan: {results[label]['plan'][0].strip()}", flush=True)
    return results


# --- export and verification ---------------------------------------------------------------------

class PeakRss:
    """Samples this process's resident memory while a block runs."""

    def __init__(self, every: float = 0.01):
        self.every, self.peak, self.start, self._stop = every, 0, 0, threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.every)

    def __enter__(self):
        self.start = self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def time_exports(var: Path) -> tuple[dict, dict]:
    from django.contrib.auth.models import User
    from django.urls import reverse

    viewer = User.objects.get(username="bench_oversight")
    client = oversight_client(viewer)
    results, bundles = {}, {}
    for export_format in ("csv", "jsonl"):
        path = var / f"export-{export_format}.zip"
        with PeakRss() as memory:
            started = time.monotonic()
            response = client.post(reverse("audit:export"), {"format": export_format})
            first_byte = None
            with path.open("wb") as out:
                for chunk in response.streaming_content:
                    if first_byte is None:
                        first_byte = time.monotonic() - started
                    out.write(chunk)
            seconds = time.monotonic() - started
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            uncompressed = archive.getinfo(manifest["events_file"]).file_size
        results[export_format] = {
            "events": manifest["count"], "seconds": round(seconds, 1),
            "events_per_second": round(manifest["count"] / seconds),
            "first_chunk_ms": round(first_byte * 1000, 1),
            "zip_mb": round(path.stat().st_size / 1e6, 1), "events_file_mb": round(uncompressed / 1e6, 1),
            "rss_before_mb": round(memory.start / 1e6, 1), "peak_rss_growth_mb": round((memory.peak - memory.start) / 1e6, 1),
        }
        bundles[export_format] = path
        print(f"export {export_format}: {results[export_format]}", flush=True)
    return results, bundles


def time_verify(bundles: dict) -> dict:
    from io import StringIO

    from django.core.management import call_command

    results = {}
    for export_format, path in bundles.items():
        out = StringIO()
        started = time.monotonic()
        call_command("audit_verify", export=str(path), stdout=out)
        seconds = time.monotonic() - started
        results[f"audit_verify --export ({export_format})"] = {"seconds": round(seconds, 1),
                                                                "output": out.getvalue().strip()}
    folder = bundles["csv"].parent / "standalone"
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(bundles["csv"]) as archive:
        (folder / "verify_export.py").write_bytes(archive.read("verify_export.py"))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-I", str(folder / "verify_export.py"), str(bundles["csv"])],
                          capture_output=True, text=True, check=True)
    results["standalone verify_export.py (csv)"] = {"seconds": round(time.monotonic() - started, 1),
                                                    "output": done.stdout.strip()}
    for name, figures in results.items():
        print(f"{name}: {figures}", flush=True)
    return results


def time_chain_verify() -> dict:
    from audit.selectors import audit_chain_verify

    started = time.monotonic()
    report = audit_chain_verify()
    figures = {"seconds": round(time.monotonic() - started, 1), "ok": report.ok, "checked": report.checked}
    print(f"audit_verify (whole chain): {figures}", flush=True)
    return figures


if __name__ == "__main__":
    raise SystemExit(main())

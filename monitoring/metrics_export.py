"""/metrics: the Prometheus exposition of the figures every process flushed to Redis (core/metrics.py), plus
what is read at scrape time: Celery queue depths, worker heartbeats. Needs the MONITORING_TOKEN bearer token;
with none configured it answers 404 (off)."""

from __future__ import annotations

import time
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from core.heartbeat import heartbeat_expiry_seconds, worker_heartbeats
from core.metrics import METRICS, metrics_stored
from core.redis_probe import celery_queue_lengths, monitoring_redis
from monitoring.access import monitoring_token_given


def _stored_families(samples) -> list:
    by_metric: dict[str, list] = defaultdict(list)
    for sample in samples:
        for name in METRICS:
            if sample.name in (name, f"{name}_total", f"{name}_bucket", f"{name}_sum", f"{name}_count"):
                by_metric[name].append(sample)
                break
    families = []
    for name, metric in METRICS.items():
        rows = by_metric.get(name, [])
        if metric.kind == "counter":
            family = CounterMetricFamily(name, metric.help, labels=metric.labels)
            for row in rows:
                family.add_metric([row.labels[label] for label in metric.labels], row.value)
        elif metric.kind == "gauge":
            family = GaugeMetricFamily(name, metric.help, labels=metric.labels)
            for row in rows:
                family.add_metric([row.labels[label] for label in metric.labels], row.value)
        else:
            family = HistogramMetricFamily(name, metric.help, labels=metric.labels)
            series: dict[tuple, dict] = defaultdict(lambda: {"buckets": defaultdict(float), "sum": 0.0})
            for row in rows:
                key = tuple(row.labels[label] for label in metric.labels)
                if row.name.endswith("_bucket"):
                    series[key]["buckets"][row.labels["le"]] += row.value
                elif row.name.endswith("_sum"):
                    series[key]["sum"] += row.value
            for key, data in sorted(series.items()):
                cumulative, buckets = 0.0, []
                for bound in (*(repr(b) for b in metric.buckets), "+Inf"):
                    cumulative += data["buckets"].get(bound, 0.0)
                    buckets.append((bound, cumulative))
                family.add_metric(list(key), buckets, data["sum"])
        families.append(family)
    return families


def _scrape_families(client) -> list:
    queues = GaugeMetricFamily("lfr_queue_length", "Messages waiting in a Celery queue", labels=["queue"])
    for queue, length in celery_queue_lengths(client=client).items():
        queues.add_metric([queue], length)
    up = GaugeMetricFamily("lfr_worker_up", "A Celery worker whose heartbeat has not expired (1), by the queues it "
                                            "consumes", labels=["worker", "queues"])
    age = GaugeMetricFamily("lfr_worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat",
                            labels=["worker"])
    slots = GaugeMetricFamily("lfr_worker_slots", "Pool slots of the worker", labels=["worker"])
    busy = GaugeMetricFamily("lfr_worker_busy_slots", "Pool slots running a task", labels=["worker"])
    now = time.time()
    for beat in worker_heartbeats(client=client):
        up.add_metric([beat.name, ",".join(beat.queues)], 1)
        age.add_metric([beat.name], round(beat.age(now), 3))
        slots.add_metric([beat.name], beat.slots)
        busy.add_metric([beat.name], beat.busy)
    return [queues, up, age, slots, busy]


class _RedisCollector:
    def collect(self):
        store_up = GaugeMetricFamily("lfr_metrics_store_up", "Redis answered this scrape (0: figures missing)")
        client = monitoring_redis()
        try:
            families = _stored_families(metrics_stored(client=client, gauge_max_age_s=heartbeat_expiry_seconds()))
            families += _scrape_families(client)
        except Exception:
            families = []
            store_up.add_metric([], 0)
        else:
            store_up.add_metric([], 1)
        finally:
            client.close()
        yield from families
        yield store_up


@login_not_required
@never_cache
@require_GET
def metrics(request):
    if not settings.MONITORING_TOKEN:
        raise Http404("metrics are off: set MONITORING_TOKEN")
    if not monitoring_token_given(request):
        response = HttpResponse("a bearer token is needed\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RedisCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

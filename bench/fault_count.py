"""Counting alerts against a looping camera: expected, delivered, lost, duplicates (no Django, no I/O).

The camera plays one video in a loop; every enrolled subject appears once per pass, in a known segment
of it (bench/fault_world.py). A source that is (re)opened starts the video from its beginning, in real time,
so while it runs its position at wall time t is (t - origin) mod pass_s. For a file camera the origins are
the moments the worker reports it streaming, and a processing interval runs from one origin to the next,
or to a `cut`: a moment the fault itself stopped the camera (the worker killed). For an RTSP camera the
origin is the server's start and an interval begins when the worker reports the stream (it joins a
stream already playing) and ends when the server is dropped. From a cut to the next interval it is blind.

- An **occurrence** is one pass of one subject: the segment where the subject is on screen, widened by
  `tolerance_s` each side (the origin is read from the portal a little after the video really started).
- It is **owed** an alert when the camera was processed from the start of its segment until `latency_s`
  after the subject's decision point: where in the pass the pipeline raises that subject's alert
  (`decisions`, the median over the run's alerts; on a looping video it barely moves), or the segment's
  end when not known. Then the match was made before the fault could stop the camera, so an alert is
  owed even if the worker was killed a moment later. A walk-by cut short before its decision point is
  **indeterminate**: counted if it alerts, never lost. A walk-by during blind time is neither owed nor
  lost (no system can see it).
- An alert belongs to the occurrence whose widened segment holds its frame time (the moment the camera
  frame was read; alerts from frames outside the measured window are left out). More than one alert for
  an occurrence is a **duplicate** (the portal also suppresses repeats of a subject on a camera for well
  under a pass, so only a retry or a replay can make one).
  An alert that fits no occurrence is **unexplained** (reported, never silently dropped).
- lost = owed occurrences with no alert.

A fault-free run of the same length checks the model: its lost must be 0 (or the host is missing
walk-bys for want of CPU, and the figures of that run say so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interval:
    """The camera processed frames from `begin` to `end`; its video was at position 0 at `origin` (a file
    camera: begin = origin; an RTSP camera: the server's start, and the worker joins the stream later)."""

    origin: float
    begin: float
    end: float


@dataclass(frozen=True)
class Occurrence:
    subject: str
    start: float
    end: float
    owed: bool
    interval: Interval


@dataclass
class Tally:
    expected: int = 0
    delivered: int = 0  # distinct occurrences with an alert
    lost: int = 0
    duplicates: int = 0
    indeterminate_delivered: int = 0
    unexplained: int = 0
    blind_s: float = 0.0
    lost_at: list[dict] = field(default_factory=list)
    duplicate_alerts: list[int] = field(default_factory=list)
    unexplained_alerts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"expected": self.expected, "delivered": self.delivered, "lost": self.lost,
                "duplicates": self.duplicates, "indeterminate_delivered": self.indeterminate_delivered,
                "unexplained": self.unexplained, "blind_s": round(self.blind_s, 1), "lost_at": self.lost_at,
                "duplicate_alert_ids": self.duplicate_alerts, "unexplained_alert_ids": self.unexplained_alerts}


def processing_intervals(*, origins: list[float], cuts: list[float], until: float) -> list[Interval]:
    """A file camera: each origin begins an interval, which ends at the next origin or at the first cut after it."""
    ordered = sorted(set(origins))
    intervals = []
    for index, origin in enumerate(ordered):
        end = ordered[index + 1] if index + 1 < len(ordered) else until
        end = min([end, *[cut for cut in cuts if origin < cut < end]])
        if end > origin:
            intervals.append(Interval(origin, origin, end))
    return intervals


def decision_points(positions: list[tuple[str, float]]) -> dict[str, float]:
    """subject -> median position in the pass of its alerts."""
    by_subject: dict[str, list[float]] = {}
    for subject, position in positions:
        by_subject.setdefault(subject, []).append(position)
    return {subject: sorted(values)[len(values) // 2] for subject, values in by_subject.items()}


def occurrences(*, intervals: list[Interval], pass_s: float, appearances: dict[str, list[float]],
                window: tuple[float, float], tolerance_s: float, latency_s: float,
                decisions: dict[str, float] | None = None) -> list[Occurrence]:
    found = []
    for interval in intervals:
        for subject, (seg_start, seg_end) in appearances.items():
            decides = min(max((decisions or {}).get(subject, seg_end), seg_start), seg_end)
            first = int(math.floor((interval.begin - interval.origin) / pass_s)) - 1
            for k in range(first, int(math.ceil((interval.end - interval.origin) / pass_s)) + 1):
                base = interval.origin + k * pass_s
                start, stop = base + seg_start, base + seg_end
                if (start - tolerance_s >= interval.end or stop + tolerance_s <= interval.begin
                        or stop + tolerance_s <= window[0] or start - tolerance_s >= window[1]):
                    continue
                owed = (max(window[0], interval.begin) <= start
                        and base + decides + latency_s <= min(interval.end, window[1]))
                found.append(Occurrence(subject, start - tolerance_s, stop + tolerance_s, owed, interval))
    return found


def tally(*, alerts: list[dict], window: tuple[float, float], pass_s: float, appearances: dict[str, list[float]],
          origins: list[float] = (), cuts: list[float] = (), intervals: list[Interval] | None = None,
          decisions: dict[str, float] | None = None, tolerance_s: float = 1.5, latency_s: float = 1.0) -> Tally:
    """`alerts`: {"id", "subject", "frame_time"} (epoch seconds) of one camera, any order. Give `intervals`,
    or a file camera's `origins` and `cuts`."""
    if intervals is None:
        intervals = processing_intervals(origins=list(origins), cuts=list(cuts), until=window[1])
    found = occurrences(intervals=intervals, pass_s=pass_s, appearances=appearances, window=window,
                        tolerance_s=tolerance_s, latency_s=latency_s, decisions=decisions)
    result = Tally(expected=sum(o.owed for o in found))
    ordered = sorted(intervals, key=lambda i: i.begin)
    for index, interval in enumerate(ordered):  # from each cut to the next interval's first frame
        if interval.end < window[1]:
            resumed = ordered[index + 1].begin if index + 1 < len(ordered) else window[1]
            result.blind_s += max(0.0, resumed - interval.end)
    hits: dict[Occurrence, list[int]] = {o: [] for o in found}
    for alert in sorted(alerts, key=lambda a: a["frame_time"]):
        at = alert["frame_time"]
        if not window[0] <= at <= window[1]:
            continue
        home = [o for o in found if o.subject == alert["subject"] and o.start <= at <= o.end]
        if not home:
            result.unexplained += 1
            result.unexplained_alerts.append(alert["id"])
            continue
        # the frame was read while its own interval ran; widened segments of two intervals can overlap
        hits[min(home, key=lambda o: (not o.interval.begin <= at < o.interval.end, abs(o.start - at)))].append(
            alert["id"])
    for occurrence, ids in hits.items():
        if ids:
            if occurrence.owed:
                result.delivered += 1
            else:
                result.indeterminate_delivered += 1
            result.duplicates += len(ids) - 1
            result.duplicate_alerts.extend(ids[1:])
        elif occurrence.owed:
            result.lost += 1
            result.lost_at.append({"subject": occurrence.subject, "from": round(occurrence.start, 1),
                                   "to": round(occurrence.end, 1)})
    return result

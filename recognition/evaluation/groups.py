"""False alerts per demographic group of the non-mated passers-by (sets with a labels.csv). No Django.

Groups: race, sex and age band each alone, and race x sex. Each figure carries its count and an exact
95% interval; the largest ratio between groups is given at the operating threshold, or why the data
cannot resolve it (a group with no false alert has only an upper bound).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from . import metrics

AGE_BANDS = ((0, 2), (3, 9), (10, 19), (20, 39), (40, 59), (60, 200))
GROUPINGS = ("race", "sex", "age_band", "race x sex")


def age_band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}" if high < 200 else f"{low}+"
    return "unknown"


def read_labels(path: Path) -> dict[str, dict]:
    """file -> {race, sex, age_band} from a UTKFace-style labels.csv (file, age, gender, race)."""
    labels = {}
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            age = row.get("age", "")
            labels[row["file"]] = {"race": row.get("race") or "unknown", "sex": row.get("gender") or "unknown",
                                   "age_band": age_band(int(age)) if age.isdigit() else "unknown"}
    return labels


def per_1000(k: int, n: int) -> dict:
    low, high = metrics.proportion_interval(k, n) if n else (math.nan, math.nan)
    upper = metrics.proportion_upper_bound(k, n) if n else math.nan
    return {"false_alerts": k, "passersby": n, "per_1000": 1000 * k / n if n else math.nan,
            "upper95_per_1000": 1000 * upper, "interval95_per_1000": [1000 * low, 1000 * high],
            "resolved": k > 0, "note": None if k else f"0 of {n}: at most {1000 * upper:.2f} per 1,000 (95%)"}


def largest_ratio(rows: dict) -> dict:
    rated = {k: v for k, v in rows.items() if v["passersby"]}
    if len(rated) < 2:
        return {"ratio": None, "note": "fewer than two groups"}
    high = max(rated, key=lambda k: rated[k]["per_1000"])
    low = min(rated, key=lambda k: rated[k]["per_1000"])
    if rated[high]["false_alerts"] == 0:
        return {"ratio": None, "note": "no false alert in any group: the ratio is not resolved"}
    if rated[low]["false_alerts"] == 0:
        return {"ratio": None, "highest": high, "lowest": low,
                "note": f"{low} has 0 of {rated[low]['passersby']} (at most {rated[low]['upper95_per_1000']:.2f} per 1,000 "
                        f"at 95%); {high}'s {rated[high]['per_1000']:.2f} per 1,000 is "
                        f"{rated[high]['per_1000'] / rated[low]['upper95_per_1000']:.2f} times that bound; "
                        f"the ratio is not resolved"}
    return {"ratio": rated[high]["per_1000"] / rated[low]["per_1000"], "highest": high, "lowest": low, "note": None}


def group_counts(alerted: Sequence[bool], groups: Sequence[dict | None]) -> dict[str, dict[str, list[int]]]:
    """grouping -> group -> [false alerts, passers-by], over the labelled passers-by only ({} when none)."""
    labelled = [(bool(a), g) for a, g in zip(alerted, groups) if g]
    out: dict[str, dict[str, list[int]]] = {}
    for grouping in GROUPINGS if labelled else ():
        members: dict[str, list[int]] = {}
        for flag, g in labelled:
            value = f"{g['race']} x {g['sex']}" if grouping == "race x sex" else g[grouping]
            counts = members.setdefault(value, [0, 0])
            counts[0] += flag
            counts[1] += 1
        out[grouping] = dict(sorted(members.items()))
    return out


def rates_from_counts(counts: dict[str, dict[str, list[int]]]) -> dict:
    """``group_counts`` as per-group rates with intervals and the largest ratio, per grouping."""
    if not counts:
        return {"note": "no non-mated set with group labels (labels.csv) in this run"}
    out = {}
    for grouping, members in counts.items():
        rows = {value: per_1000(k, n) for value, (k, n) in members.items()}
        out[grouping] = {"groups": rows, "largest_ratio": largest_ratio(rows)}
    return out


def false_alerts_by_group(alerted: Sequence[bool], groups: Sequence[dict | None]) -> dict:
    """Per grouping: each group's false alerts per 1,000 passers-by and the largest ratio between groups."""
    return rates_from_counts(group_counts(alerted, groups))


def markdown_lines(groups: dict, threshold: float) -> list[str]:
    if "note" in groups:
        return [groups["note"], ""]
    out = []
    for grouping, data in groups.items():
        out += [f"### {grouping}", "", "| group | false alerts | per 1,000 | 95% interval per 1,000 |", "|---|---|---|---|"]
        for value, fa in data["groups"].items():
            low, high = fa["interval95_per_1000"]
            out.append(f"| {value} | {fa['false_alerts']}/{fa['passersby']} | {fa['per_1000']:.2f} | {low:.2f}-{high:.2f} |")
        ratio = data["largest_ratio"]
        value = ratio.get("ratio")
        out += ["", f"Largest ratio at threshold {threshold:.2f}: {'not resolved' if value is None else f'{value:.2f}'}"
                + (f" ({ratio.get('highest')} / {ratio.get('lowest')})" if ratio.get("highest") else "")
                + (f". {ratio['note']}" if ratio.get("note") else ""), ""]
    return out

"""False alerts per demographic group of the non-mated passers-by (sets with a labels.csv). No Django.

Groups: race, sex and age band each alone, race x sex, and the age bands officers record on false alerts
(``officer_age_band``, from the exact age in labels.csv). Each figure carries its count and an exact
95% interval; the largest ratio between groups is given at the operating threshold, or why the data
cannot resolve it (a group with no false alert has only an upper bound).

``REFERENCE_TO_OFFICER`` is the one mapping from the reference set's groups to the codes officers record
on false alerts (alerts/demographics.py), used by the statistics to set the false alerts a deployment
had against the spread the reference set predicts (``expected_shares``, ``spread_test``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from . import metrics

AGE_BANDS = ((0, 2), (3, 9), (10, 19), (20, 39), (40, 59), (60, 200))
# The bands officers record (alerts.demographics.AgeBand codes), by exact age.
OFFICER_AGE_BANDS = (("under_18", 0, 17), ("18_24", 18, 24), ("25_34", 25, 34), ("35_49", 35, 49),
                     ("50_64", 50, 64), ("65_plus", 65, 200))
GROUPINGS = ("race", "sex", "age_band", "race x sex", "officer_age_band")

# The one mapping from the reference set's groups (UTKFace labels: race White/Black/Asian/Indian/Others, sex,
# exact age) to what officers record on a false alert (alerts.demographics: officer-defined ethnicity IC codes,
# perceived sex, perceived age band): officer field -> (reference grouping, reference group -> officer codes).
# UTKFace "Asian" is East and South East Asian (IC5), "Indian" South Asian (IC4), "Others" Hispanic, Latino and
# Middle Eastern (IC6 is the nearest code; approximate); White covers IC1 and IC2, which UTKFace does not split.
# Officer codes outside it (IC9, "unknown", nothing recorded) are left out of the comparison and counted apart.
REFERENCE_TO_OFFICER: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "ethnicity": ("race", {"White": ("IC1", "IC2"), "Black": ("IC3",), "Indian": ("IC4",), "Asian": ("IC5",),
                           "Others": ("IC6",)}),
    "perceived_sex": ("sex", {"male": ("male",), "female": ("female",)}),
    "age_band": ("officer_age_band", {code: (code,) for code, _, _ in OFFICER_AGE_BANDS}),
}
MIN_FALSE_ALERTS_TO_TEST = 5  # below this, a spread of observed false alerts is not tested


def age_band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}" if high < 200 else f"{low}+"
    return "unknown"


def officer_age_band(age: int) -> str:
    for code, low, high in OFFICER_AGE_BANDS:
        if low <= age <= high:
            return code
    return "unknown"


def read_labels(path: Path) -> dict[str, dict]:
    """file -> {race, sex, age_band, officer_age_band} from a UTKFace-style labels.csv (file, age, gender, race)."""
    labels = {}
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            age = row.get("age", "")
            labels[row["file"]] = {"race": row.get("race") or "unknown", "sex": row.get("gender") or "unknown",
                                   "age_band": age_band(int(age)) if age.isdigit() else "unknown",
                                   "officer_age_band": officer_age_band(int(age)) if age.isdigit() else "unknown"}
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
        # At least this, if the lowest group's rate is at its 95% upper bound (and higher below it).
        return {"ratio": None, "highest": high, "lowest": low,
                "lower_bound": rated[high]["per_1000"] / rated[low]["upper95_per_1000"],
                "note": f"{low} has 0 of {rated[low]['passersby']} (at most {rated[low]['upper95_per_1000']:.2f} per 1,000 "
                        f"at 95%); {high}'s {rated[high]['per_1000']:.2f} per 1,000 is "
                        f"{rated[high]['per_1000'] / rated[low]['upper95_per_1000']:.2f} times that bound; "
                        f"the ratio is not resolved"}
    return {"ratio": rated[high]["per_1000"] / rated[low]["per_1000"], "highest": high, "lowest": low, "note": None}


def _has(group: dict, grouping: str) -> bool:
    return all(key in group for key in (("race", "sex") if grouping == "race x sex" else (grouping,)))


def group_counts(alerted: Sequence[bool], groups: Sequence[dict | None]) -> dict[str, dict[str, list[int]]]:
    """grouping -> group -> [false alerts, passers-by], over the labelled passers-by only ({} when none).
    A grouping the labels do not carry (older label dicts without ``officer_age_band``) is left out."""
    labelled = [(bool(a), g) for a, g in zip(alerted, groups, strict=True) if g]
    out: dict[str, dict[str, list[int]]] = {}
    for grouping in [g for g in GROUPINGS if labelled and all(_has(x, g) for _, x in labelled)]:
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


def ratio_exceeds(ratio: dict, maximum: float) -> float | None:
    """The ratio a ``largest_ratio`` result shows above ``maximum``, else None: a resolved ratio above it, or an
    unresolved one whose lower bound (the highest group's rate over the lowest group's 95% upper bound) is."""
    value = ratio.get("ratio")
    if value is None:
        value = ratio.get("lower_bound")
    return value if value is not None and value > maximum else None


def expected_shares(counts: dict[str, list[int]], mix: dict[str, float] | None = None) -> dict[str, float] | None:
    """Each group's expected share of false alerts from its rate in the reference set (``[false alerts, of]``)
    and the mix of passers-by: ``mix`` (group -> share of passers-by; groups it leaves out count as absent), or
    by default the reference set's own mix, which makes each share the group's share of the reference set's
    false alerts. None when no group would have a false alert."""
    weights = {g: (mix.get(g, 0.0) if mix is not None else n) for g, (_, n) in counts.items()}
    raw = {g: weights[g] * k / n for g, (k, n) in counts.items() if n}
    total = sum(raw.values())
    if total <= 0:
        return None
    return {g: value / total for g, value in raw.items()}


def _chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X ~ chi-square(df): the regularised upper incomplete gamma Q(df/2, statistic/2)."""
    a, x = df / 2.0, statistic / 2.0
    if x <= 0:
        return 1.0
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        k = a
        for _ in range(1000):
            k += 1
            term *= x / k
            total += term
            if term < total * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - math.lgamma(a)))
    b, c, d = x + 1 - a, 1e300, 1 / (x + 1 - a)  # continued fraction for Q (Lentz)
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - math.lgamma(a)) * h)


def _compositions(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


EXACT_TEST_MAX_OUTCOMES = 200_000


def spread_test(observed: dict[str, int], expected: dict[str, float] | None,
                minimum: int = MIN_FALSE_ALERTS_TO_TEST) -> dict:
    """Whether the observed false alerts per group could come from the expected shares: the exact multinomial
    test (the probability of a spread no more likely than the one observed) while the outcomes are few enough to
    list, else Pearson's chi-square. A p-value below 0.05 says the spread differs from the expected one."""
    n = sum(observed.values())
    base = {"false_alerts": n, "minimum": minimum, "p_value": None, "method": None}
    if expected is None:
        return base | {"note": "the reference set had no false alert at this threshold: no expected spread"}
    if n < minimum:
        return base | {"note": f"too few false alerts to test ({n}; at least {minimum} needed)"}
    unexpected = sorted(g for g, k in observed.items() if k and not expected.get(g))
    if unexpected:
        return base | {"note": f"false alerts in {', '.join(unexpected)}, where the reference set had none at this "
                               "threshold: the spread differs from the expected one, but no p-value can be given"}
    groups = [g for g in expected if expected[g] > 0]
    shares = [expected[g] for g in groups]
    counts = [observed.get(g, 0) for g in groups]
    if len(groups) < 2:
        return base | {"p_value": 1.0, "method": "one group", "note": None}
    outcomes = math.comb(n + len(groups) - 1, len(groups) - 1)
    if outcomes <= EXACT_TEST_MAX_OUTCOMES:
        logs = [math.log(s) for s in shares]

        def log_p(ks) -> float:
            return math.lgamma(n + 1) + sum(k * lg - math.lgamma(k + 1) for k, lg in zip(ks, logs, strict=True))

        seen = log_p(counts)
        p = sum(math.exp(lp) for lp in (log_p(ks) for ks in _compositions(n, len(groups))) if lp <= seen + 1e-9)
        return base | {"p_value": min(1.0, p), "method": "exact multinomial", "note": None}
    statistic = sum((k - n * s) ** 2 / (n * s) for k, s in zip(counts, shares, strict=True))
    return base | {"p_value": _chi_square_sf(statistic, len(groups) - 1), "method": "chi-square",
                   "statistic": statistic, "note": None}


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

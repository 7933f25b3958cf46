"""Writing a walk-by report: report.json, report.md and the top false alerts' images in one folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from .groups import markdown_lines as group_markdown
from .report import _json_ready


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf"
        return f"{value:.{digits}f}"
    return str(value)


def _share(rate: dict) -> str:
    low, high = rate["interval95"]
    return f"{_f(rate['rate'])} ({rate['count']}/{rate['of']}, 95% {_f(low)}-{_f(high)})"


def _fa(fa: dict) -> str:
    text = (f"{_f(fa['per_1000'], 2)} per 1,000 ({fa['false_alerts']}/{fa['passersby']}, "
            f"95% upper {_f(fa['upper95_per_1000'], 2)})")
    return text


def summary_lines(report: dict) -> list[str]:
    op = report["operating_threshold"]
    walk = report["walk"]
    lines = [
        f"model {report['model']} (detector {report['detector']} at {report['det_size'][0]}x{report['det_size'][1]}, "
        f"{report.get('device_defaults', report['device'])} defaults, {report['providers'][0]})",
        f"walk: {walk['frame_size'][0]}x{walk['frame_size'][1]} at {walk['fps']:g} fps, {walk['walk_seconds']:g} s "
        f"({walk['frames_per_walk']} frames), inter-ocular {walk['inter_ocular'][0]:g}-{walk['inter_ocular'][1]:g} px, "
        f"{walk['lanes']} per scene, background {report['background']['name']}",
        f"gallery {report['gallery']}; passers-by {report['passersby']['mated']} mated, {report['passersby']['nonmated']} "
        f"non-mated {report['passersby']['nonmated_by_set']}; {len(report['screening']['excluded'])} excluded by screening",
        f"threshold {op['threshold']:.2f}: TPIR {_share(op['tpir'])}",
        f"  false alerts {_fa(op['false_alerts'])}" + (f" [{op['false_alerts']['note']}]" if op['false_alerts']['note'] else ""),
        f"  wrong-subject alerts {_share(op['wrong_subject'])}; background (street video) alerts {op['background_alerts']}",
        f"  never detected: mated {_share(op['never_detected']['mated'])}, non-mated {_share(op['never_detected']['nonmated'])}",
        f"  never embedded: mated {_share(op['never_embedded']['mated'])}, non-mated {_share(op['never_embedded']['nonmated'])}",
    ]
    tta = op["time_to_alert"]
    for key in ("seconds_from_first_appearance", "seconds_from_first_frame_at_24px"):
        if tta.get(key):
            lines.append(f"  time to alert ({key.replace('_', ' ')}): median {_f(tta[key]['median'], 2)} s, "
                         f"p90 {_f(tta[key]['p90'], 2)} s")
    for target, point in report["threshold_at_false_alert_rate"].items():
        lines.append(f"at {target} false alerts per passer-by: threshold {_f(point['threshold'], 4)}, "
                     f"TPIR {_share(point['tpir'])}" + (f" [{point['note']}]" if point["note"] else ""))
    lines.append("band px     TPIR by upper edge   detected   embedded   false alerts per 1,000")
    for row in report["by_band"]:
        lines.append(f"  {row['band_px'][0]:g}-{row['band_px'][1]:g}  {_f(row['tpir_by_upper_edge']['rate'])}  "
                     f"{_f(row['detected_by_upper_edge']['rate'])}  {_f(row['embedded_by_upper_edge']['rate'])}  "
                     f"{_f(row['false_alerts_by_upper_edge']['per_1000'], 2)}")
    for grouping, data in report["groups"].items():
        if grouping == "note":
            lines.append(f"groups: {data}")
            continue
        ratio = data["largest_ratio"]
        value = "not resolved" if ratio.get("ratio") is None else _f(ratio["ratio"], 2)
        lines.append(f"groups by {grouping}: largest ratio {value}" + (f" [{ratio['note']}]" if ratio.get("note") else ""))
    if report.get("decisions"):
        lines.append(f"alert decisions on the same run (chosen: {decision_label(report['decision'])}):")
        lines += ["  " + line for line in decision_lines(report)]
    lines.append("targets (measured, not asserted):")
    for target in report["targets"]:
        state = {True: "met", False: "NOT met", None: "not resolved"}[target["met"]]
        lines.append(f"  {target['target']}: {_f(target['value'], 3)} -> {state}"
                     + (f" ({target['note']})" if target.get("note") else ""))
    return lines


def decision_label(described: dict) -> str:
    options = ",".join(f"{k}={v}" for k, v in described.items() if k != "name")
    return described["name"] + (f":{options}" if options else "")


def decision_lines(report: dict) -> list[str]:
    """One line per decision: at the operating threshold, and TPIR at the chosen rule's false alert count."""
    rows = report.get("decisions") or []
    if not rows:
        return []
    allowed = rows[0]["at_baseline_false_alerts"]["allowed"]
    out = [f"decision | at {report['operating_threshold']['threshold']:.2f}: TPIR, false alerts | time to alert from 24 px "
           f"(median) | at <= {allowed} false alerts: threshold, TPIR"]
    for row in rows:
        op, same = row["operating"], row["at_baseline_false_alerts"]
        tta = row["time_to_alert_s"]
        child = f" + child entries +{row['child_offset']:g}" if row.get("child_offset") else ""
        out.append(f"{decision_label(row['decision'])}{child} | {_f(op['tpir']['rate'])}, {op['false_alerts']['false_alerts']}"
                   f"/{op['false_alerts']['passersby']} | {_f(tta['median'], 2) if tta else '-'} s | "
                   f"{_f(same['threshold'], 4)}, {_f(same['tpir']['rate'])}")
    return out


def markdown(report: dict, images: list[str]) -> str:
    op, walk = report["operating_threshold"], report["walk"]
    out = [f"# Walk-by evaluation: {report['dataset']} gallery, {report['device']} defaults", "",
           "| setting | value |", "|---|---|",
           f"| recogniser | `{report['model']}` |",
           f"| detector | `{report['detector']}`, live input {report['det_size'][0]}x{report['det_size'][1]} "
           f"({report['backend']}, {', '.join(report['providers'])}) |",
           f"| pipeline | `PipelineConfig` {report['pipeline']} |",
           f"| walk | {walk} |",
           f"| background | {report['background']} |",
           f"| gallery | {report['gallery']} identities (label fixes: {bool(report['label_fixes'])}) |",
           f"| passers-by | {report['passersby']['mated']} mated ({report['passersby']['mated_identities']} identities), "
           f"{report['passersby']['nonmated']} non-mated {report['passersby']['nonmated_by_set']} |",
           f"| screening | {report['screening']['exclusions']}: {len(report['screening']['excluded'])} excluded; "
           f"{len(report['screening']['candidates'])} candidates at >= {report['screening']['threshold']} |",
           f"| source photos without a face | {len(report['passersby']['source_without_face'])} (not walked) |",
           f"| seed | {report['seed']} |", "", "## Summary", "", "```", *summary_lines(report), "```", "",
           "## Per threshold (per passer-by)", "",
           "| threshold | TPIR | wrong subject | false alerts per 1,000 (95% upper) | background alerts |",
           "|---|---|---|---|---|"]
    for threshold, point in report["at_threshold"].items():
        fa = point["false_alerts"]
        out.append(f"| {threshold} | {_share(point['tpir'])} | {point['wrong_subject']['count']} | "
                   f"{_f(fa['per_1000'], 2)} ({fa['false_alerts']}/{fa['passersby']}, {_f(fa['upper95_per_1000'], 2)}) | "
                   f"{point['background_alerts']} |")
    if report.get("decisions"):
        out += ["", "## Alert decisions on the same run", "",
                f"The chosen rule is `{decision_label(report['decision'])}`. Each rule replayed exactly on the recorded "
                "embeddings (tests/recognition/evaluation/test_live.py); TPIR compared at the threshold allowing as many "
                "false alerts as the chosen rule gives at the operating threshold.", "", "```", *decision_lines(report), "```"]
    out += ["", "## By inter-ocular band", "",
            "By the band's upper edge: what a walk ending there gives (the pipeline is causal).", "",
            "| band px | frames in band | TPIR by upper edge | first alerts in band | detected by upper edge | "
            "embedded by upper edge | false alerts per 1,000 by upper edge |", "|---|---|---|---|---|---|---|"]
    for row in report["by_band"]:
        out.append(f"| {row['band_px'][0]:g}-{row['band_px'][1]:g} | {row['frames_in_band']} | "
                   f"{_share(row['tpir_by_upper_edge'])} | {row['first_alerts_in_band']} | "
                   f"{_share(row['detected_by_upper_edge'])} | {_share(row['embedded_by_upper_edge'])} | "
                   f"{_fa(row['false_alerts_by_upper_edge'])} |")
    out += ["", "## False alerts by group (non-mated sets with labels)", ""]
    out += group_markdown(report["groups"], op["threshold"])
    out += ["## Top false and wrong-subject alerts", "",
            "Each image: the face as the camera saw it, the passer-by's photo, the enrolled reference it matched.", "",
            "| score | passer-by | matched identity | inter-ocular px | image |", "|---|---|---|---|---|"]
    for row, image in zip(report["top_false_alerts"], images, strict=False):
        out.append(f"| {row['score']:.4f} | {row['passerby']}{' (mated)' if row['mated'] else ''} | {row['gallery_identity']} | "
                   f"{row['inter_ocular_px']} | ![]({image}) |")
    out += ["", "## Screening candidates (clean face against the gallery, compared with every photo of the identity)", "",
            "| passer-by | gallery identity | gallery score | best similarity to the identity's photos |", "|---|---|---|---|"]
    out += [f"| {c['key']} | {c['gallery_identity']} | {c['gallery_score']} | {c['best_similarity_to_identity']} |"
            for c in report["screening"]["candidates"][:50]]
    out += ["", "## Targets (printed, never asserted)", ""]
    out += [f"- {t['target']}: {_f(t['value'])} -> {({True: 'met', False: 'not met', None: 'not resolved'})[t['met']]}"
            + (f" ({t['note']})" if t.get("note") else "") for t in report["targets"]]
    out += ["", f"Timing: {report['timing_s']}", ""]
    return "\n".join(out)


def _tile(image: np.ndarray | None, side: int = 160) -> np.ndarray:
    if image is None:
        return np.full((side, side, 3), 64, np.uint8)
    scale = side / max(image.shape[:2])
    resized = cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
    tile = np.full((side, side, 3), 64, np.uint8)
    top, left = (side - resized.shape[0]) // 2, (side - resized.shape[1]) // 2
    tile[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return tile


def write_live_report(report: dict, out_dir: str | Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    (out_dir / "false_alerts").mkdir(parents=True, exist_ok=True)
    images = []
    for rank, row in enumerate(report["top_false_alerts"], start=1):
        reference = Path(report["dataset_path"]) / row["gallery_reference"] if row.get("gallery_reference") else None
        parts = [row.get("_crop"), cv2.imread(row["passerby_path"]),
                 cv2.imread(str(reference)) if reference and reference.is_file() else None]
        name = f"false_alerts/{rank:02d}.jpg"
        cv2.imwrite(str(out_dir / name), np.concatenate([_tile(p) for p in parts], axis=1), [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append(name)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md"}
    paths["json"].write_text(json.dumps(_json_ready(report), indent=2) + "\n")
    paths["markdown"].write_text(markdown(report, images))
    paths["images"] = [out_dir / name for name in images]
    return paths


def default_live_out_dir(report: dict, root: str | Path = "bench/results") -> Path:
    """bench/results/evaluate_live-<model>-<dataset>-<device>[-<passers-by>]."""
    stem = report["model"].rsplit("-", 1)[0]
    count = report["passersby"]["mated"] + report["passersby"]["nonmated"]
    flip = "-flip" if report.get("flip") else ""
    flip += f"-every{report['pipeline']['embed_every']}" if report.get("pipeline", {}).get("embed_every", 10) != 10 else ""
    device = report.get("device_defaults", report["device"])
    return Path(root) / f"evaluate_live-{stem}-{report['dataset']}-{device}-{count}{flip}"

"""Writing an evaluation report: report.json, report.md and det.png in one folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .groups import markdown_lines as group_markdown
from .metrics import DetCurve


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "-inf" if value < 0 else "inf"
        return f"{value:.{digits}f}"
    return str(value)


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else (str(value) if math.isinf(value) else value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _fixes(summary: dict | None) -> str:
    if not summary:
        return "none (raw labels)"
    return (f"`{summary['path']}`: {summary['excluded_images']} images excluded, {summary['relabelled_images']} relabelled, "
            f"{summary['images_moved_by_merges']} moved by merges ({summary['identities_before']} -> "
            f"{summary['identities_after']} identities)")


def summary_lines(report: dict) -> list[str]:
    no_face = report["no_face"]["count"]
    lines = [
        f"model {report['model']} (detector {report['detector']}, {report['backend']} on {report['providers'][0]}, "
        f"det {report['det_size'][0]}x{report['det_size'][1]})",
        f"dataset {report['dataset']}: degrade={report['degrade']} flip={report['flip']} "
        f"references/subject={report['references_per_subject']} ({report['reference_choice']}) "
        f"probe policy={report['probe_policy']} seed={report['seed']} label fixes={bool(report['label_fixes'])}",
        f"gallery {report['gallery']} identities ({report['gallery_images']} images); mated probes "
        f"{report['mated_probes']}, non-mated probes {report['nonmated_probes']}",
        f"no face: gallery {no_face['gallery']}, mated {no_face['mated']}, non-mated {no_face['nonmated']}; "
        f"refused by quality: {report['probes_refused_by_quality']}",
        f"rank-1 {_fmt(report['rank1'])}",
    ]
    for target, point in report["tpir_at_fpir"].items():
        lines.append(f"TPIR at FPIR {target}: {_fmt(point['tpir'])} (threshold {_fmt(point['threshold'])}, "
                     f"{point['false_alerts']} false alerts of {point['nonmated_probes']})")
    lines.append("threshold  TPIR    FPIR")
    for threshold, point in report["at_threshold"].items():
        lines.append(f"  {threshold}    {_fmt(point['tpir'])}  {_fmt(point['fpir'])}")
    operating = report["operating_threshold"]
    lines.append(f"operating threshold {_fmt(operating['threshold'], 2)}: TPIR {_fmt(operating['tpir'])}, "
                 f"FPIR {_fmt(operating['fpir'])}")
    for grouping, data in (report.get("groups") or {}).items():
        if grouping != "note":
            ratio = data["largest_ratio"]
            value = "not resolved" if ratio.get("ratio") is None else _fmt(ratio["ratio"], 2)
            lines.append(f"false alerts by {grouping}: largest ratio {value}"
                         + (f" ({ratio['note']})" if ratio.get("note") else ""))
    return lines


def markdown(report: dict) -> str:
    no_face = report["no_face"]
    out = [f"# Watchlist evaluation: {report['dataset']}, {probe_label(report)} probes", ""]
    out += [
        "| setting | value |", "|---|---|",
        f"| recogniser | `{report['model']}` |",
        f"| detector | `{report['detector']}` at {report['det_size'][0]}x{report['det_size'][1]} |",
        f"| backend | {report['backend']} ({', '.join(report['providers'])}) |",
        f"| probes | {report['degrade']}"
        + (f" (`{report['degrade_profile']['key']}`)" if report.get("degrade_profile") else "") + " |",
        f"| flip averaging | {report['flip']} |",
        f"| references per subject | {report['references_per_subject']} ({report['reference_choice']}) |",
        f"| probe quality policy | {report['probe_policy']} |",
        f"| seed | {report['seed']} |",
        f"| label fixes | {_fixes(report['label_fixes'])} |",
        f"| gallery | {report['gallery']} identities, {report['gallery_images']} images |",
        f"| mated probes | {report['mated_probes']} ({report['protocol']['gallery_identities_with_mated_probes']} identities) |",
        f"| non-mated probes | {report['nonmated_probes']} ({report['protocol']['nonmated_identities']} identities) |",
        f"| no face found | gallery {no_face['count']['gallery']}, mated {no_face['count']['mated']}, "
        f"non-mated {no_face['count']['nonmated']} |",
        f"| several faces ({report['face_selection']} used) | gallery {report['several_faces']['gallery']}, "
        f"mated {report['several_faces']['mated']}, non-mated {report['several_faces']['nonmated']} |",
        f"| probe inter-ocular px | {report['probe_inter_ocular_px']} |",
        "", f"**Rank-1: {_fmt(report['rank1'])}**", "",
        "| FPIR target | TPIR | threshold | false alerts |", "|---|---|---|---|",
    ]
    for target, point in report["tpir_at_fpir"].items():
        out.append(f"| {target} | {_fmt(point['tpir'])} | {_fmt(point['threshold'])} | "
                   f"{point['false_alerts']} / {point['nonmated_probes']} |")
    out += ["", "| threshold | TPIR | FPIR | false alerts |", "|---|---|---|---|"]
    for threshold, point in report["at_threshold"].items():
        out.append(f"| {threshold} | {_fmt(point['tpir'])} | {_fmt(point['fpir'])} | {point['false_alerts']} |")
    operating = report["operating_threshold"]
    out += ["", f"Operating threshold {_fmt(operating['threshold'], 2)} (marked on det.png): TPIR {_fmt(operating['tpir'])}, "
            f"FPIR {_fmt(operating['fpir'])}.", "", "![DET](det.png)", "",
            "## Highest-scoring non-mated probes", "", "| score | probe | gallery identity | gallery reference |",
            "|---|---|---|---|"]
    out += [f"| {r['score']:.4f} | {r['probe']} | {r['gallery_identity']} | {r['gallery_reference']} |"
            for r in report["top_nonmated"]]
    out += ["", "## Rank-1 errors (highest wrong scores)", "", "| score | probe | returned | via reference |",
            "|---|---|---|---|"]
    out += [f"| {r['score']:.4f} | {r['probe']} | {r['top_identity']} | {r['top_reference']} |" for r in report["rank1_errors"]]
    out += ["", "## Label-noise candidates (most similar clean images labelled as different people)", "",
            "| score | image | image |", "|---|---|---|"]
    out += [f"| {r['score']:.4f} | {r['a']} | {r['b']} |" for r in report["label_noise_candidates"]]
    if report.get("nonmated_sets"):
        out += ["", f"## False alerts by group at the operating threshold (non-mated sets: {report['nonmated_by_set']})", ""]
        out += group_markdown(report["groups"], operating["threshold"])
    listed = no_face["gallery"] + no_face["mated"] + no_face["nonmated"]
    out += ["", f"## Images with no face ({len(listed)})", ""]
    out += [f"- {r['item']} ({r.get('outcome')})" for r in listed] or ["none"]
    out += ["", f"Timing: {report['timing_s']}; cache: {report['cache']}", ""]
    return "\n".join(out)


def plot_det(curve: DetCurve, report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    mated, nonmated = max(report["mated_probes"], 1), max(report["nonmated_probes"], 1)
    # Zero rates cannot sit on a log axis: draw them at half of one probe's share.
    fpir = np.maximum(curve.fpir, 0.5 / nonmated)
    fnir = np.maximum(curve.fnir, 0.5 / mated)
    figure, axes = plt.subplots(figsize=(6.4, 5.0), dpi=110)
    axes.step(fpir, fnir, where="post", color="tab:blue", label=f"{probe_label(report)} probes")
    marks = [(report["operating_threshold"], "tab:red", "operating")]
    marks += [(point, "tab:green", f"FPIR {target}") for target, point in report["tpir_at_fpir"].items()]
    for point, colour, name in marks:
        if not math.isfinite(point["threshold"]):
            continue
        x, y = max(point["fpir"], 0.5 / nonmated), max(1 - point["tpir"], 0.5 / mated)
        axes.plot([x], [y], "o", color=colour)
        axes.annotate(f"{name}: t={point['threshold']:.3f}", (x, y), textcoords="offset points", xytext=(6, 6),
                      fontsize=8, color=colour)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(0.5 / nonmated, 1.0)
    axes.set_ylim(0.5 / mated, 1.0)
    axes.set_xlabel("FPIR (non-mated probes alerting)")
    axes.set_ylabel("FNIR (mated probes missed or wrong)")
    axes.set_title(f"{report['dataset']}: {report['model']}\n{probe_label(report)} probes, gallery {report['gallery']}",
                   fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_report(report: dict, out_dir: str | Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md", "det": out_dir / "det.png"}
    curve = report.get("_det_curve")
    if curve is not None:
        plot_det(curve, report, paths["det"])
    paths["json"].write_text(json.dumps(_json_ready(report), indent=2) + "\n")
    paths["markdown"].write_text(markdown(report))
    return paths


def default_out_dir(report_or_model: dict | str, dataset: str, degrade: str, root: str | Path = "bench/results",
                    variant: str = "") -> Path:
    """bench/results/eval-<model>-<dataset>-<degrade>[-<variant>], model without its hash suffix."""
    model = report_or_model["model"] if isinstance(report_or_model, dict) else report_or_model
    stem = model.rsplit("-", 1)[0]  # "w600k_mbf-<sha12>" -> "w600k_mbf"
    return Path(root) / (f"eval-{stem}-{dataset}-{degrade}" + (f"-{variant}" if variant else ""))


def variant_suffix(report: dict, *, default_flip: bool = True) -> str:
    """Names the options that differ from the defaults, for the default report folder."""
    parts = []
    if report.get("label_fixes"):
        parts.append("labelfixed")
    if bool(report["flip"]) != default_flip:
        parts.append("flip" if report["flip"] else "noflip")
    if report["references_per_subject"] != 1:
        parts.append(f"refs{report['references_per_subject']}")
    if report["reference_choice"] != "random":
        parts.append(report["reference_choice"])
    if report["probe_policy"] != "none":
        parts.append(f"policy-{report['probe_policy']}")
    if report.get("face_selection", "central") != "central":
        parts.append(f"select-{report['face_selection']}")
    for path in report.get("nonmated_sets") or []:
        parts.append(f"plus-{Path(path).name}")
    return "-".join(parts)


def probe_label(report: dict) -> str:
    return "clean" if report["degrade"] == "none" else report["degrade"]

"""manage.py evaluate_watchlist: open-set watchlist accuracy of the configured models on a face set.

The work is in recognition/evaluation/ (Django-free); this command reads settings and arguments only.
Protocol and metrics: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from audit.commands import AuditedCommand
from recognition.evaluation import EvaluationOptions, default_out_dir, run_evaluation, summary_lines, write_report
from recognition.evaluation.calibration import calibration_from_report, calibration_json
from recognition.evaluation.core import DEGRADE_CHOICES, PROBE_POLICIES, REFERENCE_CHOICES
from recognition.evaluation.embedding import FACE_SELECTIONS
from recognition.evaluation.report import variant_suffix
from recognition.management.calibration_output import add_calibration_arguments, calibration_actor, calibration_output
from recognition.ml.engine import EngineConfig


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CommandError(f"--det-size must look like 320x320, got {text!r}") from None
    return width, height


class Command(AuditedCommand):
    requires_system_checks: list = []  # needs no database or other app (but --store-calibration does)
    help = "Measure rank-1, TPIR/FPIR and a DET curve of the configured face models on an <identity>/<image> folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", required=True, help="folder laid out as <identity>/<image>")
        parser.add_argument("--gallery-size", type=int, default=2500, help="enrolled identities (default 2500)")
        parser.add_argument("--references-per-subject", type=int, default=1, help="reference images per enrolled identity")
        parser.add_argument("--reference-choice", choices=REFERENCE_CHOICES, default="random",
                            help="which images become references: seeded random (default) or the best face quality score")
        parser.add_argument("--degrade", choices=DEGRADE_CHOICES, default="none",
                            help="cctv: probes made small, blurred and JPEG-compressed; the gallery stays clean")
        parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                            help="average each embedding with its mirror image's (default on: it helps, see "
                                 "docs/evaluation.md; --no-flip measures the engine's plain embeddings)")
        parser.add_argument("--probe-policy", choices=tuple(PROBE_POLICIES), default="none",
                            help="probes whose face fails this quality policy are not searched (live = the camera policy)")
        parser.add_argument("--face-selection", choices=FACE_SELECTIONS, default="central",
                            help="face used from an image with several: nearest the centre (LFW-style crops, default) "
                                 "or the largest (the enrolment rule)")
        parser.add_argument("--label-fixes", default=None,
                            help="apply curated label corrections: a bundled name (lfw-dev) or a JSON path "
                                 "(recognition/evaluation/label_fixes/); default: raw labels")
        parser.add_argument("--nonmated", dest="nonmated_sets", action="append", default=[], metavar="DIR",
                            help="more non-mated probes (repeatable): <identity>/<image>, or flat with labels.csv "
                                 "(utkface-dev: false alerts are also reported per race, sex and age band)")
        parser.add_argument("--holdout-fraction", type=float, default=0.5,
                            help="share of multi-image identities kept out of the gallery as passers-by")
        parser.add_argument("--max-probes-per-identity", type=int, default=None)
        parser.add_argument("--limit-nonmated", type=int, default=None, help="subsample non-mated probes (quick runs)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--threshold", type=float, default=None,
                            help="operating threshold marked on the DET plot (default DEPLOYMENT_DEFAULT_THRESHOLD)")
        parser.add_argument("--det-size", default="320x320",
                            help="detector input WxH for this run (default 320x320: enough for LFW's 250x250 images)")
        parser.add_argument("--batch-size", type=int, default=64, help="images per engine call")
        parser.add_argument("--out", default=None, help="report folder (default bench/results/eval-<model>-<dataset>-<degrade>)")
        parser.add_argument("--cache-dir", default=None, help="embedding cache folder (default <VAR_DIR>/cache/embeddings)")
        parser.add_argument("--no-cache", action="store_true")
        add_calibration_arguments(
            parser, store_help="keep this run's FPIR/TPIR curve as the threshold calibration of the model it "
                               "evaluated: authorising officers are shown it (audited; needs the database)",
            write_help="write the calibration as JSON (e.g. to package it under "
                       "recognition/evaluation/calibrations/<model_id>.json)")

    def handle(self, *args, **options) -> None:
        dataset = Path(options["dataset"]).expanduser()
        if not dataset.is_dir():
            raise CommandError(f"dataset folder {dataset} does not exist")
        engine_config = EngineConfig(
            model_dir=settings.MODEL_DIR or None, backend=settings.INFERENCE_BACKEND,
            providers=tuple(settings.INFERENCE_PROVIDERS) or None, intra_op_threads=settings.INFERENCE_THREADS or None,
            det_size=_size(options["det_size"]),
        )
        cache_dir = None if options["no_cache"] else Path(options["cache_dir"] or Path(settings.VAR_DIR) / "cache" / "embeddings")
        threshold = options["threshold"] if options["threshold"] is not None else settings.DEPLOYMENT_DEFAULT_THRESHOLD
        actor = calibration_actor(options["actor"]) if options["store_calibration"] else None
        try:
            evaluation = EvaluationOptions(
                dataset=dataset, gallery_size=options["gallery_size"],
                references_per_subject=options["references_per_subject"], reference_choice=options["reference_choice"],
                degrade=options["degrade"], flip=options["flip"], probe_policy=options["probe_policy"],
                holdout_fraction=options["holdout_fraction"], max_probes_per_identity=options["max_probes_per_identity"],
                limit_nonmated=options["limit_nonmated"], seed=options["seed"], operating_threshold=threshold,
                batch_size=options["batch_size"], cache_dir=cache_dir, face_selection=options["face_selection"],
                label_fixes=options["label_fixes"],
                nonmated_sets=tuple(Path(p).expanduser() for p in options["nonmated_sets"]),
            )
            report = run_evaluation(evaluation, engine_config=engine_config,
                                    progress=lambda message: self.stderr.write(message))
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        out_dir = Path(options["out"]) if options["out"] else Path(settings.BASE_DIR) / default_out_dir(
            report, dataset.name, options["degrade"], variant=variant_suffix(report))
        paths = write_report(report, out_dir)
        for line in summary_lines(report):
            self.stdout.write(line)
        self.stdout.write(f"wrote {paths['json']}, {paths['markdown']}, {paths['det']}")
        if options["store_calibration"] or options["write_calibration"]:
            self._calibration(report, options, threshold, actor)

    def _calibration(self, report: dict, options: dict, threshold: float, actor) -> None:
        calibration = calibration_from_report(report, command=_command_line(options, threshold),
                                              measured_on=timezone.localdate().isoformat())
        calibration_output(self, calibration, write_to=options["write_calibration"], store=options["store_calibration"],
                           actor=actor, to_json=calibration_json, label="calibration",
                           stored_note=": authorisation forms now show its false alert rates")


def _command_line(options: dict, threshold: float) -> list[str]:
    """The run's effective options, spelt out so the calibration can be reproduced whatever was defaulted."""
    line = ["manage.py", "evaluate_watchlist", "--dataset", str(options["dataset"]),
            "--gallery-size", str(options["gallery_size"]),
            "--references-per-subject", str(options["references_per_subject"]),
            "--reference-choice", options["reference_choice"], "--degrade", options["degrade"],
            "--flip" if options["flip"] else "--no-flip", "--probe-policy", options["probe_policy"],
            "--face-selection", options["face_selection"], "--holdout-fraction", str(options["holdout_fraction"]),
            "--seed", str(options["seed"]), "--threshold", str(threshold), "--det-size", options["det_size"]]
    if options["label_fixes"]:
        line += ["--label-fixes", str(options["label_fixes"])]
    if options["max_probes_per_identity"] is not None:
        line += ["--max-probes-per-identity", str(options["max_probes_per_identity"])]
    for path in options["nonmated_sets"]:
        line += ["--nonmated", str(path)]
    if options["limit_nonmated"] is not None:
        line += ["--limit-nonmated", str(options["limit_nonmated"])]
    return line

"""manage.py evaluate_live: walk-by evaluation of the configured model pack through the live pipeline.

The work is in recognition/evaluation/live.py (Django-free); this command reads settings and arguments.
Protocol, metrics and figures: docs/evaluation.md ("Walk-by evaluation").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from audit.commands import AuditedCommand
from recognition.batch import PipelineConfig
from recognition.evaluation.live import (
    DEVICE_DEFAULTS,
    LiveOptions,
    Recording,
    make_engine,
    measure_recording,
    parse_shard,
    run_live_evaluation,
)
from recognition.evaluation.live_report import default_live_out_dir, summary_lines, write_live_report
from recognition.evaluation.walkby import BACKGROUNDS, WalkByConfig, create_background
from recognition.evaluation.walkby_calibration import walkby_calibration_from_report, walkby_calibration_json
from recognition.management.calibration_output import add_calibration_arguments, calibration_actor, calibration_output
from recognition.ml.decision import decision_from_spec, decision_spec, registered_decisions
from recognition.ml.engine import EngineConfig
from recognition.ml.input_sizes import engine_on_gpu, live_det_size

STREET_VIDEO = Path(settings.BASE_DIR).parent / "shared" / "data" / "video" / "facenet_pytorch_video.mp4"


# Measured beside the chosen rule on the same run (docs/evaluation.md, "Deciding over the track").
COMPARED_DECISIONS = ("frame", "template:keep=3,min_frames=1", "template:keep=5,min_frames=1",
                      "template:keep=5,min_frames=2", "agreement:frames=2", "margin:margin=0.03", "margin:margin=0.06")


def _pair(text: str, kind=int, sep: str = "x") -> tuple:
    try:
        first, second = (kind(v) for v in text.lower().split(sep))
    except ValueError:
        raise CommandError(f"expected two values separated by {sep!r}, got {text!r}") from None
    return first, second


class Command(AuditedCommand):
    requires_system_checks: list = []
    help = "Walk passers-by made from face photos past a synthetic camera and measure the live pipeline per passer-by."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", help="<identity>/<image> folder: gallery, mated and non-mated passers-by "
                                                  "(required unless --from-recording)")
        parser.add_argument("--nonmated", dest="nonmated_sets", action="append", default=[], metavar="DIR",
                            help="more non-mated passers-by (repeatable): <identity>/<image>, or flat with labels.csv "
                                 "(utkface-dev)")
        parser.add_argument("--gallery-size", type=int, default=2500)
        parser.add_argument("--label-fixes", default=None, help="bundled name (lfw-dev) or JSON path")
        parser.add_argument("--exclusions", default=None,
                            help="screened-out non-mated photos: bundled name (walkby-nonmated) or JSON path")
        parser.add_argument("--limit-mated", type=int, default=None, help="random subsample of mated passers-by")
        parser.add_argument("--limit-nonmated", type=int, default=None, help="random subsample of non-mated passers-by")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--threshold", type=float, default=None, help="default DEPLOYMENT_DEFAULT_THRESHOLD")
        parser.add_argument("--frame-size", default="1920x1080")
        parser.add_argument("--fps", type=float, default=None, help="frames the worker processes per second (device default)")
        parser.add_argument("--walk-seconds", type=float, default=4.0)
        parser.add_argument("--inter-ocular", default="10-80", help="eye distance at the start and end of the walk, px")
        parser.add_argument("--lanes", type=int, default=5, help="passers-by in the same frames")
        parser.add_argument("--det-size", default="auto",
                            help="live detector input WxH; auto: LIVE_DETECTION_SIZE, else the device default "
                                 "(CPU 640x384, CUDA 960x544)")
        parser.add_argument("--device-defaults", choices=("auto", "cpu", "cuda"), default="auto",
                            help="use that device's live defaults (detector input, frame rate) whatever runs the models")
        parser.add_argument("--background", choices=sorted(BACKGROUNDS), default=None,
                            help="default: video (the shared street video) when present, else synthetic")
        parser.add_argument("--background-video", default=str(STREET_VIDEO))
        parser.add_argument("--out", default=None, help="default bench/results/evaluate_live-<model>-<dataset>-<device>-<n>")
        parser.add_argument("--cache-dir", default=None, help="embedding cache (default <VAR_DIR>/cache/embeddings)")
        parser.add_argument("--no-cache", action="store_true")
        parser.add_argument("--embed-every", type=int, default=None,
                            help="re-embed a track after this many frames without an embedding (PipelineConfig default)")
        parser.add_argument("--flip", action="store_true",
                            help="the live pipeline also embeds each face's mirror image and averages the two")
        parser.add_argument("--decision", default=None,
                            help="alert rule NAME[:option=value,...] (default ALERT_DECISION); known: "
                                 + ", ".join(registered_decisions()))
        parser.add_argument("--compare", action="append", default=None, metavar="DECISION",
                            help="another alert rule measured on the same run (repeatable; default: "
                                 + "; ".join(COMPARED_DECISIONS) + "); --compare none for no comparison")
        parser.add_argument("--child-entries", default=None,
                            help="gallery identities enrolled as children: bundled name (lfw-dev-children) or JSON path")
        parser.add_argument("--child-offset", type=float, default=None,
                            help="raise the threshold of child entries by this much (default CHILD_ENTRY_THRESHOLD_OFFSET)")
        parser.add_argument("--save-recording", default=None, metavar="PATH",
                            help="keep the run's recording (embeddings, crops: the data set's faces; keep it local) "
                                 "to measure again with --from-recording")
        parser.add_argument("--from-recording", action="append", default=None, metavar="PATH",
                            help="measure a saved recording again (other decisions, threshold) instead of running; "
                                 "repeat it to measure the parts of a run in shards as one run")
        parser.add_argument("--shard", default="1/1", metavar="K/N",
                            help="run only the K-th of N parts of the scenes (save each part with --save-recording, "
                                 "then measure them together with --from-recording)")
        add_calibration_arguments(
            parser, store_help="keep this run's per-passer-by curve as the walk-by calibration of the model and "
                               "device it evaluated (authorisation pages then show it)",
            write_help="write the walk-by calibration as JSON (to package it: "
                       "recognition/evaluation/calibrations/<model_id>.walkby-<device>.json)")

    def handle(self, *args, **options) -> None:
        try:
            decision = decision_from_spec(options["decision"] or settings.ALERT_DECISION)
            compared = [decision_from_spec(spec) for spec in (options["compare"] or COMPARED_DECISIONS) if spec != "none"]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        actor = calibration_actor(options["actor"]) if options["store_calibration"] else None
        if options["from_recording"]:
            return self._measure_again(options, decision, compared, actor)
        child_offset = self._child_offset(options)
        if not options["dataset"]:
            raise CommandError("--dataset is required (unless --from-recording)")
        dataset = Path(options["dataset"]).expanduser()
        if not dataset.is_dir():
            raise CommandError(f"dataset folder {dataset} does not exist")
        engine = make_engine(EngineConfig(
            model_dir=settings.MODEL_DIR or None, backend=settings.INFERENCE_BACKEND,
            providers=tuple(settings.INFERENCE_PROVIDERS) or None, intra_op_threads=settings.INFERENCE_THREADS or None,
        ), (320, 320))
        device = options["device_defaults"]
        if device == "auto":
            device = "cuda" if engine_on_gpu(engine) else "cpu"
        configured = options["det_size"]
        if configured == "auto" and options["device_defaults"] == "auto":
            configured = settings.LIVE_DETECTION_SIZE
        det_size = live_det_size(configured, on_gpu=device == "cuda")
        background_name = options["background"] or ("video" if Path(options["background_video"]).is_file() else "synthetic")
        try:
            background = (create_background("video", path=options["background_video"]) if background_name == "video"
                          else create_background("synthetic", seed=options["seed"]))
            walk = WalkByConfig(frame_size=_pair(options["frame_size"]), fps=options["fps"] or DEVICE_DEFAULTS[device]["fps"],
                                walk_seconds=options["walk_seconds"], inter_ocular=_pair(options["inter_ocular"], float, "-"),
                                lanes=options["lanes"])
            live = LiveOptions(
                dataset=dataset, nonmated_sets=tuple(Path(p).expanduser() for p in options["nonmated_sets"]),
                gallery_size=options["gallery_size"], label_fixes=options["label_fixes"], exclusions=options["exclusions"],
                mated=options["limit_mated"], nonmated=options["limit_nonmated"], seed=options["seed"], walk=walk,
                det_size=det_size,
                pipeline=replace(PipelineConfig(), repeat_alert_after_s=settings.ALERT_REPEAT_SUPPRESSION_SECONDS,
                                 decision=decision, flip=options["flip"],
                                 embed_every=options["embed_every"] or PipelineConfig().embed_every),
                compare_decisions=tuple(compared), child_entries=options["child_entries"], child_offset=child_offset,
                save_recording=Path(options["save_recording"]) if options["save_recording"] else None,
                shard=parse_shard(options["shard"]),
                operating_threshold=(options["threshold"] if options["threshold"] is not None
                                     else settings.DEPLOYMENT_DEFAULT_THRESHOLD),
                cache_dir=(None if options["no_cache"]
                           else Path(options["cache_dir"] or Path(settings.VAR_DIR) / "cache" / "embeddings")),
            )
            report = run_live_evaluation(live, engine=engine, background=background,
                                         progress=lambda message: self.stderr.write(message))
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        report["device_defaults"] = device
        self._write(report, options, live, actor)

    @staticmethod
    def _child_offset(options) -> float:
        offset = options["child_offset"]
        return float(settings.CHILD_ENTRY_THRESHOLD_OFFSET if offset is None else offset)

    def _measure_again(self, options, decision, compared, actor) -> None:
        try:
            recording = Recording.merge([Recording.load(Path(path).expanduser()) for path in options["from_recording"]])
        except (OSError, ValueError, EOFError) as exc:
            raise CommandError(f"cannot read the recording: {exc}") from exc
        recorded = recording.options
        live = replace(recorded, pipeline=replace(recorded.pipeline, decision=decision), compare_decisions=tuple(compared),
                       child_entries=options["child_entries"], child_offset=self._child_offset(options),
                       exclusions=options["exclusions"] or recorded.exclusions,
                       operating_threshold=options["threshold"] if options["threshold"] is not None
                       else recorded.operating_threshold, save_recording=None)
        report = measure_recording(recording, live)
        report["device_defaults"] = recording.head.get("device")
        report["measured_from_recording"] = [str(path) for path in options["from_recording"]]
        self._write(report, options, live, actor)

    def _write(self, report: dict, options, live: LiveOptions, actor) -> None:
        out_dir = Path(options["out"]) if options["out"] else Path(settings.BASE_DIR) / default_live_out_dir(report)
        paths = write_live_report(report, out_dir)
        for line in summary_lines(report):
            self.stdout.write(line)
        self.stdout.write(f"wrote {paths['json']}, {paths['markdown']} and {len(paths['images'])} alert images")
        if options["store_calibration"] or options["write_calibration"]:
            self._calibration(report, _command_line(options, live, report["device_defaults"]), options, actor)

    def _calibration(self, report: dict, command: list[str], options: dict, actor) -> None:
        calibration = walkby_calibration_from_report(report, command=command,
                                                     measured_on=timezone.localdate().isoformat())
        calibration_output(self, calibration, write_to=options["write_calibration"], store=options["store_calibration"],
                           actor=actor, to_json=walkby_calibration_json, label="walk-by calibration",
                           stored_note=" on {record.device}: authorisation pages now show its false alerts per passer-by")


def _command_line(options: dict, live: LiveOptions, device: str) -> list[str]:
    """The run's effective options, spelt out so the calibration can be reproduced whatever was defaulted."""
    walk = live.walk
    line = ["manage.py", "evaluate_live"]
    if options["from_recording"]:  # measured again: the recording's run, then what was changed
        for path in options["from_recording"]:
            line += ["--from-recording", str(path)]
    line += ["--dataset", str(live.dataset),
            "--gallery-size", str(live.gallery_size), "--seed", str(live.seed),
            "--threshold", str(live.operating_threshold),
            "--frame-size", "x".join(map(str, walk.frame_size)), "--fps", f"{walk.fps:g}",
            "--walk-seconds", f"{walk.walk_seconds:g}", "--inter-ocular", "-".join(f"{v:g}" for v in walk.inter_ocular),
            "--lanes", str(walk.lanes), "--det-size", "x".join(map(str, live.det_size)),
            "--device-defaults", str(device), "--decision", decision_spec(live.pipeline.decision)]
    if live.pipeline.flip:
        line += ["--flip"]
    if not options["from_recording"] and live.shard != (1, 1):
        line += ["--shard", "/".join(map(str, live.shard))]
    if live.child_entries:
        line += ["--child-entries", str(live.child_entries), "--child-offset", f"{live.child_offset:g}"]
    for path in live.nonmated_sets:
        line += ["--nonmated", str(path)]
    for flag, value in (("--label-fixes", live.label_fixes), ("--exclusions", live.exclusions),
                        ("--limit-mated", live.mated), ("--limit-nonmated", live.nonmated),
                        ("--background", options["background"])):
        if value is not None:
            line += [flag, str(value)]
    return line

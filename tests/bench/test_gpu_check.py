"""make gpu-check's plumbing, on a machine without a GPU: the step runner, the result checks that catch a
silent CPU fallback, the summary, the onnxruntime-gpu version choice, and the whole dry run (docs/gpu.md)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gpu_check = _load()
Step, StepResult = gpu_check.Step, gpu_check.StepResult


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_step_passes_fails_or_times_out_and_its_output_is_logged(tmp_path):
    ok = gpu_check.run_step(Step("ok", python("print('hello')"), 30, check=lambda: (True, "", {"n": 1})),
                            log_dir=tmp_path, echo=False)
    assert (ok.status, ok.rc, ok.figures) == ("passed", 0, {"n": 1})
    assert (tmp_path / "ok.log").read_text() == "hello\n"

    failed = gpu_check.run_step(Step("bad", python("import sys; print('boom'); sys.exit(3)"), 30),
                                log_dir=tmp_path, echo=False)
    assert failed.status == "failed" and failed.rc == 3 and "boom" in failed.message

    # The timeout kills the step's whole process group, a child that holds the output open included.
    started = time.monotonic()
    slow = gpu_check.run_step(Step("slow", python("import subprocess; subprocess.run(['sleep', '60'])"), 1),
                              log_dir=tmp_path, echo=False)
    assert slow.status == "timed out" and time.monotonic() - started < 20

    def broken_check():
        raise FileNotFoundError("engine-gpu.json")

    unchecked = gpu_check.run_step(Step("check", python("pass"), 30, check=broken_check), log_dir=tmp_path, echo=False)
    assert unchecked.status == "failed" and "engine-gpu.json" in unchecked.message

    missing = gpu_check.run_step(Step("nothing", ["/nonexistent/nvidia-smi"], 30), log_dir=tmp_path, echo=False)
    assert missing.status == "failed" and "cannot start" in missing.message


def test_steps_that_need_a_failed_step_are_skipped_and_the_others_still_run(tmp_path):
    seen = []
    results = gpu_check.run_steps([
        Step("install", python("raise SystemExit(1)"), 30),
        Step("probe", python("pass"), 30, needs=("install",)),
        Step("faces", python("pass"), 30),
        Step("evaluate", python("pass"), 30, needs=("probe", "faces")),
    ], log_dir=tmp_path, env=lambda: None, echo=False, on_result=seen.append)
    assert [(r.name, r.status) for r in results] == [("install", "failed"), ("probe", "skipped"), ("faces", "passed"),
                                                     ("evaluate", "skipped")]
    assert seen == results


def test_the_runs_budget_cuts_timeouts_and_skips_what_it_cannot_start(tmp_path):
    started = time.monotonic()
    results = gpu_check.run_steps([
        Step("long", python("import time; time.sleep(60)"), 60),
        Step("after", python("pass"), 30),
    ], log_dir=tmp_path, echo=False, budget_s=6)
    assert [r.status for r in results] == ["timed out", "skipped"] and "out of time" in results[1].message
    assert time.monotonic() - started < 20


def _engine_report(providers):
    detection = [{"device": "cuda", "backend": "onnxruntime", "providers": providers, "input_size": size, "batch": b,
                  "frames_per_s": fps} for size, b, fps in (([640, 640], 64, 5000.0), ([1280, 736], 64, 2200.0))]
    embedding = [{"device": "cuda", "backend": "onnxruntime", "providers": providers, "batch": 2048,
                  "faces_per_s": 21000.0}]
    cpu = [{"device": "cpu", "backend": "onnxruntime", "input_size": [640, 640], "batch": 1, "frames_per_s": 70.0}]
    return {"detection": cpu + detection, "embedding": embedding}


def test_the_checks_catch_a_silent_cpu_fallback(tmp_path):
    path = tmp_path / "engine.json"
    path.write_text(json.dumps(_engine_report(["CUDAExecutionProvider", "CPUExecutionProvider"])))
    ok, _, figures = gpu_check.check_engine(path, "cuda")
    assert ok and figures["best_embedding_faces_per_s"] == 21000.0
    assert figures["best_detection_frames_per_s_1280x736"] == 2200.0
    path.write_text(json.dumps(_engine_report(["CPUExecutionProvider"])))  # CUDA asked for, CPU ran
    ok, message, _ = gpu_check.check_engine(path, "cuda")
    assert not ok and "not on cuda" in message
    path.write_text(json.dumps({"detection": _engine_report([])["detection"][:1], "embedding": []}))
    ok, message, _ = gpu_check.check_engine(path, "cuda")  # only CPU rows: no CUDA path ran at all
    assert not ok and "no cuda figures" in message

    pipeline = tmp_path / "pipeline.json"
    pipeline.write_text(json.dumps({"best_frames_per_s": 40.0, "best_cameras": 64, "frame_size": [1280, 720],
                                    "det_size": [640, 384], "device": "cpu", "providers": ["CPUExecutionProvider"],
                                    "cameras": [{"cameras": 64, "frames_per_s_total": 40.0}]}))
    ok, message, _ = gpu_check.check_pipeline(pipeline, "cuda")
    assert not ok and "not cuda" in message
    assert gpu_check.check_pipeline(pipeline, "cpu")[0]

    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps({"session_providers": ["CPUExecutionProvider"],
                                 "problems": ["the session fell back to ['CPUExecutionProvider']"]}))
    ok, message, _ = gpu_check.check_probe(probe, "cuda")
    assert not ok and "fell back" in message


def test_the_summary_gives_the_figures_against_the_targets():
    results = [
        StepResult("probe", "passed", 3.0, 0),
        StepResult("engine", "passed", 40.0, 0, figures={"best_embedding_faces_per_s": 21000.0,
                                                        "best_detection_frames_per_s_1280x736": 2200.0}),
        StepResult("pipeline", "timed out", 180.0, -9, "killed after 180 s"),
        StepResult("evaluate_live", "passed", 60.0, 0, figures={
            "threshold": 0.45, "tpir": 0.9, "true_alerts": 36, "mated": 40, "false_alerts": 0, "nonmated": 60,
            "frames_per_s": 80.0, "det_size": [960, 544], "device": "cuda", "model": "w600k_mbf-9cc6e4a75f0e",
            "dataset": "lfw-dev"}),
    ]
    text = "\n".join(gpu_check.summary_lines(results, dry_run=False))
    assert "21,000 faces/s (target 25,000" in text and "2,200 frames/s (target 2,100" in text
    assert "TPIR 0.900 (36/40), false alerts 0 of 60" in text
    assert "result: FAILED: pipeline" in text and "DRY RUN" not in text


@pytest.mark.parametrize("project, cuda, expected", [
    ("1.32.0", 13, "1.31.1"),  # no 1.32.0 onnxruntime-gpu: the newest below it
    ("1.31.0", 13, "1.31.0"),  # the project's own version
    ("1.32.0", 12, "1.26.0"),  # a CUDA 12 driver: the last CUDA 12 build
    ("1.25.1", 12, "1.25.1"),
    ("1.32.0", None, "1.31.1"),
])
def test_the_onnxruntime_gpu_version_follows_the_project_and_the_driver(project, cuda, expected):
    available = ["1.31.1", "1.31.0", "1.30.0", "1.27.0", "1.26.0", "1.25.1", "1.24.4", "1.23.2"]
    assert gpu_check.choose_ort_gpu_version(available, project=project, cuda_major=cuda)[0] == expected


def test_the_project_pins_the_onnxruntime_the_gpu_build_is_matched_to():
    assert gpu_check.project_onnxruntime_version() is not None


def test_make_passes_the_dry_run_and_torch_switches():
    def recipe(*variables):
        out = subprocess.run(["make", "-n", "gpu-check", *variables], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
        return [line for line in out.splitlines() if "bench/gpu_check.py" in line][-1]

    assert "--dry-run" in recipe("GPU_CHECK_DRY_RUN=1") and "--torch" not in recipe("GPU_CHECK_DRY_RUN=1")
    assert "--dry-run" not in recipe("GPU_CHECK_DRY_RUN=0") and "--torch" in recipe("GPU_CHECK_TORCH=1")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_dry_run_runs_every_step_on_the_cpu_and_writes_its_results(tmp_path):
    """The same steps as on a GPU machine (no nvidia-smi, no install), tiny and on the CPU provider."""
    results = tmp_path / "results"
    rc = gpu_check.main(["--dry-run", "--results", str(results), "--work", str(tmp_path / "work"), "--quiet"])
    summary = json.loads((results / "gpu_check-gpu.json").read_text())
    assert rc == 0, summary
    assert [s["name"] for s in summary["steps"]] == ["probe", "engine", "pipeline", "faces", "evaluate_live"]
    assert summary["passed"] and summary["dry_run"] and summary["device"] == "cpu"
    engine = json.loads((results / "engine-gpu.json").read_text())
    assert engine["tiny"] and {r["device"] for r in engine["embedding"]} == {"cpu"}
    pipeline = json.loads((results / "pipeline-gpu.json").read_text())
    assert [r["cameras"] for r in pipeline["cameras"]] == [1, 2] and pipeline["frame_size"] == [1280, 720]
    live = json.loads((results / "evaluate_live-gpu" / "report.json").read_text())
    assert live["device_defaults"] == "cpu" and live["operating_threshold"]["tpir"]["of"] > 0
    by = {s["name"]: s for s in summary["steps"]}
    assert by["evaluate_live"]["figures"]["mated"] == live["operating_threshold"]["tpir"]["of"]
    assert by["pipeline"]["figures"]["by_cameras"].keys() == {"1", "2"}
    assert all((results / "gpu_check-logs" / f"{name}.log").is_file() for name in by)

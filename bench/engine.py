#!/usr/bin/env python
"""Throughput of the face engine on this host: detection, embedding and watchlist matching.

    .venv/bin/python bench/engine.py [--quick] [--out bench/results/engine-<host>.json]

Prints a table and writes JSON. CPU always; on a GPU host also the CUDA paths that are installed:
onnxruntime's CUDAExecutionProvider (onnxruntime-gpu) and the torch backend (torch with CUDA +
onnx2torch, fp16). Frames are real: a frame of ../shared/data/video/facenet_pytorch_video.mp4 (a
London arcade, 1920x1080) when present, else insightface's group photo t1.jpg tiled to 1920x1080.
Embedding runs on aligned crops of the faces found in those frames. Matching is exact search
(top-1 cosine) of a probe batch against 2,500 / 100,000 / 1,000,000 random unit references.
bench/README.md explains the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recognition.ml.engine import EngineConfig, FaceEngine  # noqa: E402
from recognition.ml.matcher import WatchlistMatcher  # noqa: E402

VIDEO = REPO.parent / "shared" / "data" / "video" / "facenet_pytorch_video.mp4"
DET_SIZES = ((640, 640), (1280, 736))
CPU_DET_BATCHES, GPU_DET_BATCHES = (1, 8, 32), (1, 8, 32, 64)
EMBED_BATCHES = (1, 32, 128, 512)
GPU_EMBED_BATCHES = (1, 32, 128, 512, 2048)  # the GPU ceiling is quoted at batch 2048 (docs/gpu.md)
MATCH_REFERENCES = (2_500, 100_000, 1_000_000)
MATCH_PROBE_BATCHES = (1, 32)
CHUNK_ROWS = 131_072  # reference rows per matmul block for the big galleries


# --- inputs -------------------------------------------------------------------------------------

def load_frames(count: int = 4) -> tuple[list[np.ndarray], str]:
    """Up to ``count`` real 1920x1080 BGR frames spread over the video, or the tiled group photo."""
    if VIDEO.is_file():
        capture = cv2.VideoCapture(str(VIDEO))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 100
        frames = []
        for index in np.linspace(10, max(10, total - 10), count).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if ok:
                frames.append(frame)
        capture.release()
        if frames:
            return frames, f"{VIDEO.name} frames ({frames[0].shape[1]}x{frames[0].shape[0]})"
    photo = Path(list(importlib.util.find_spec("insightface").submodule_search_locations)[0]) / "data" / "images" / "t1.jpg"
    image = cv2.imread(str(photo))
    reps = (int(np.ceil(1080 / image.shape[0])), int(np.ceil(1920 / image.shape[1])), 1)
    return [np.tile(image, reps)[:1080, :1920].copy()], "insightface t1.jpg tiled to 1920x1080"


def face_crops(engine: FaceEngine, frames: list[np.ndarray], count: int) -> np.ndarray:
    crops = [face.aligned_crop for faces in engine.analyse(frames, embed=False) for face in faces]
    if not crops:
        raise RuntimeError("no face found in the benchmark frames")
    return np.stack([crops[i % len(crops)] for i in range(count)])


# --- timing -------------------------------------------------------------------------------------

MIN_TIMED_S = 0.5  # fast calls are repeated until this much time is measured (up to MAX_RUNS)
MAX_RUNS = 500


def best_seconds(call, *, repeats: int, budget_s: float) -> tuple[float, float, int]:
    """(fastest, median, runs) of timed calls after one warm-up: at least ``repeats`` runs (fewer if
    past ``budget_s``), more for fast calls until MIN_TIMED_S is measured. The fastest run is the
    figure of merit on a shared host, where other work only ever adds time; the median is kept too."""
    call()
    timings, started = [], time.perf_counter()
    while True:
        t0 = time.perf_counter()
        call()
        timings.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        if elapsed > budget_s or len(timings) >= MAX_RUNS or (len(timings) >= repeats and elapsed >= MIN_TIMED_S):
            break
    return min(timings), float(np.median(timings)), len(timings)


def bench_detection(engine: FaceEngine, frames, batches, *, repeats, budget_s, label: dict) -> list[dict]:
    rows = []
    for batch in batches:
        inputs = [frames[i % len(frames)] for i in range(batch)]
        seconds, median, runs = best_seconds(functools.partial(engine.detector.detect, inputs), repeats=repeats,
                                             budget_s=budget_s)
        rows.append(label | {"input_size": list(engine.detector.input_size), "batch": batch, "runs": runs,
                             "frames_per_s": round(batch / seconds, 1), "ms_per_frame": round(1000 * seconds / batch, 2),
                             "frames_per_s_median": round(batch / median, 1)})
        print(f"  detect {label['device']:>4} {label['backend']:<12} {rows[-1]['input_size'][0]}x{rows[-1]['input_size'][1]}"
              f" batch {batch:>3}: {rows[-1]['frames_per_s']:>8} frames/s", flush=True)
    return rows


def bench_embedding(engine: FaceEngine, crops, batches, *, repeats, budget_s, label: dict) -> list[dict]:
    rows = []
    for batch in batches:
        chunk = crops[:batch]
        seconds, median, runs = best_seconds(functools.partial(engine.embedder.embed, chunk, flip=False), repeats=repeats,
                                             budget_s=budget_s)
        rows.append(label | {"batch": batch, "runs": runs, "faces_per_s": round(batch / seconds, 1),
                             "ms_per_batch": round(1000 * seconds, 2), "faces_per_s_median": round(batch / median, 1)})
        print(f"  embed  {label['device']:>4} {label['backend']:<12} batch {batch:>3}: {rows[-1]['faces_per_s']:>8} faces/s",
              flush=True)
    return rows


def random_references(count: int, dim: int, dtype) -> np.ndarray:
    rng = np.random.default_rng(count)
    out = np.empty((count, dim), dtype=dtype)
    for start in range(0, count, CHUNK_ROWS):  # generate in blocks: never a second full-size temporary
        block = rng.standard_normal((min(CHUNK_ROWS, count - start), dim), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def numpy_top1(probes: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-1 by cosine, in row blocks; float16 blocks are widened to float32 for BLAS."""
    best_score = np.full(len(probes), -np.inf, np.float32)
    best_index = np.zeros(len(probes), np.int64)
    for start in range(0, len(references), CHUNK_ROWS):
        block = references[start : start + CHUNK_ROWS]
        scores = probes @ (block.T if block.dtype == np.float32 else block.astype(np.float32).T)
        index = scores.argmax(axis=1)
        score = scores[np.arange(len(probes)), index]
        better = score > best_score
        best_score[better], best_index[better] = score[better], index[better] + start
    return best_index, best_score


def bench_matching_cpu(dim: int, *, repeats, budget_s, sizes) -> list[dict]:
    rows = []
    probes_all = random_references(max(MATCH_PROBE_BATCHES), dim, np.float32)
    for count in sizes:
        dtypes = [np.float32] + ([np.float16] if count >= 1_000_000 else [])
        for dtype in dtypes:
            references = random_references(count, dim, dtype)
            for batch in MATCH_PROBE_BATCHES:
                probes = probes_all[:batch]
                seconds, median, runs = best_seconds(functools.partial(numpy_top1, probes, references), repeats=repeats,
                                                     budget_s=budget_s)
                rows.append({"device": "cpu", "method": f"numpy exact top-1, {np.dtype(dtype).name} references",
                             "references": count, "probe_batch": batch, "runs": runs,
                             "ms_per_batch": round(1000 * seconds, 3), "ms_per_batch_median": round(1000 * median, 3),
                             "us_per_probe": round(1e6 * seconds / batch, 1),
                             "reference_mb": round(references.nbytes / 2**20, 1)})
                print(f"  match   cpu {rows[-1]['method']:<42} {count:>9,} refs, batch {batch:>2}: "
                      f"{rows[-1]['ms_per_batch']:>9} ms (median {rows[-1]['ms_per_batch_median']}, "
                      f"{rows[-1]['reference_mb']} MB)", flush=True)
            if count == 2_500:  # the engine's own matcher (per-subject max) at watchlist size
                matcher = WatchlistMatcher(references=references, subject_ids=list(range(count)))
                for batch in MATCH_PROBE_BATCHES:
                    probes = probes_all[:batch]
                    seconds, median, runs = best_seconds(functools.partial(matcher.top_k, probes, k=1), repeats=repeats,
                                                         budget_s=budget_s)
                    rows.append({"device": "cpu", "method": "WatchlistMatcher.top_k(k=1)", "references": count,
                                 "probe_batch": batch, "runs": runs, "ms_per_batch": round(1000 * seconds, 3),
                                 "ms_per_batch_median": round(1000 * median, 3),
                                 "us_per_probe": round(1e6 * seconds / batch, 1),
                                 "reference_mb": round(references.nbytes / 2**20, 1)})
            del references
            gc.collect()
    return rows


def torch_top1(probes, references):
    score, index = (probes @ references.T).max(dim=1)
    return index.cpu(), score.float().cpu()  # copies back: includes the sync


def bench_matching_torch(dim: int, *, repeats, budget_s, sizes) -> list[dict]:
    import torch

    rows = []
    device = torch.device("cuda")
    probes_all = torch.from_numpy(random_references(max(MATCH_PROBE_BATCHES), dim, np.float32)).to(device).half()
    for count in sizes:
        references = torch.from_numpy(random_references(count, dim, np.float16)).to(device)
        for batch in MATCH_PROBE_BATCHES:
            probes = probes_all[:batch]
            seconds, median, runs = best_seconds(functools.partial(torch_top1, probes, references), repeats=repeats,
                                                 budget_s=budget_s)
            rows.append({"device": "cuda", "method": "torch exact top-1, float16 references", "references": count,
                         "probe_batch": batch, "runs": runs, "ms_per_batch": round(1000 * seconds, 3),
                         "ms_per_batch_median": round(1000 * median, 3),
                         "us_per_probe": round(1e6 * seconds / batch, 1),
                         "reference_mb": round(references.numel() * 2 / 2**20, 1)})
            print(f"  match  cuda {rows[-1]['method']:<42} {count:>9,} refs, batch {batch:>2}: {rows[-1]['ms_per_batch']:>9} ms",
                  flush=True)
        del references
        torch.cuda.empty_cache()
    return rows


def settle(seconds: float = 3.0) -> None:
    """Let onnxruntime's idle worker threads stop spinning before numpy timings: measured here, a
    2,500-reference search takes 0.05 ms on a quiet process and ~8 ms right after an ORT run."""
    gc.collect()
    time.sleep(seconds)


# --- host facts ---------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_backends() -> list[tuple[str, EngineConfig, str]]:
    """(label, engine config, device name) for every CUDA path installed here."""
    found = []
    try:
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            found.append(("onnxruntime", EngineConfig(providers=("CUDAExecutionProvider",)), "cuda"))
    except ImportError:
        pass
    if torch_cuda() and importlib.util.find_spec("onnx2torch"):
        found.append(("torch", EngineConfig(backend="torch", providers=("CUDAExecutionProvider",)), "cuda"))
    return found


def torch_cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def versions() -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__, "opencv": cv2.__version__}
    for name in ("onnxruntime", "torch", "onnx2torch"):
        if importlib.util.find_spec(name):
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
    return out


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- main ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timed run per figure (after a warm-up)")
    parser.add_argument("--out", default=None, help="JSON path (default bench/results/engine-<host>.json)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all cores)")
    parser.add_argument("--no-gpu", action="store_true", help="CPU figures only")
    parser.add_argument("--tiny", action="store_true",
                        help="a plumbing check in seconds: 640x640 only, batches 1 and 2, 2,500 references, one run")
    parser.add_argument("--skip-cpu", action="store_true",
                        help="GPU figures only (the CPU engine still finds the faces to embed); for make gpu-check")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per figure (default 3, 1 with --quick)")
    args = parser.parse_args(argv)
    repeats, budget = (1, 5.0) if args.quick else (3, 15.0)
    if args.repeats:
        repeats, budget = args.repeats, max(budget, 5.0 * args.repeats)
    det_sizes, cpu_det_batches, gpu_det_batches = DET_SIZES, CPU_DET_BATCHES, GPU_DET_BATCHES
    embed_batches, gpu_embed_batches, match_references = EMBED_BATCHES, GPU_EMBED_BATCHES, MATCH_REFERENCES
    if args.tiny:
        repeats, budget = 1, 0.2
        det_sizes, cpu_det_batches, gpu_det_batches = DET_SIZES[:1], (1, 2), (1, 2)
        embed_batches = gpu_embed_batches = (1, 8)
        match_references = MATCH_REFERENCES[:1]
    started = time.perf_counter()
    frames, frame_source = load_frames()
    host = platform.node() or "host"
    report = {
        "host": host, "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "versions": versions(), "quick": args.quick, "tiny": args.tiny, "repeats": repeats, "frame_source": frame_source,
        "detection": [], "embedding": [], "matching": [], "gpu": None,
    }
    print(f"{host}: {report['cpu']} x{report['cpu_count']}, frames: {frame_source}", flush=True)

    # CPU: onnxruntime on the CPU provider.
    cpu_config = EngineConfig(providers=("CPUExecutionProvider",), intra_op_threads=args.threads, max_batch_size=512)
    crops, dim = None, 512
    for size in det_sizes:
        engine = FaceEngine(config=replace(cpu_config, det_size=size))
        report.setdefault("pack", engine.pack.pack_id)
        label = {"device": "cpu", "backend": "onnxruntime"}
        if not args.skip_cpu:
            report["detection"] += bench_detection(engine, frames, cpu_det_batches, repeats=repeats, budget_s=budget,
                                                   label=label)
        if crops is None:
            crops, dim = face_crops(engine, frames, max(gpu_embed_batches)), engine.embedder.dimension
            if not args.skip_cpu:
                report["embedding"] += bench_embedding(engine, crops, embed_batches, repeats=repeats, budget_s=budget,
                                                       label=label)
        del engine
        if args.skip_cpu:
            break
    report["cpu_skipped"] = args.skip_cpu
    if not args.skip_cpu:
        settle()
        report["matching"] += bench_matching_cpu(dim, repeats=repeats, budget_s=budget, sizes=match_references)

    # GPU paths, when installed.
    if not args.no_gpu:
        backends = gpu_backends()
        if backends and torch_cuda():
            import torch

            report["gpu"] = torch.cuda.get_device_name(0)
        elif backends:
            report["gpu"] = "CUDA (onnxruntime-gpu)"
        for name, config, device in backends:
            for size in det_sizes:
                engine = FaceEngine(config=replace(config, det_size=size, det_batch_size=64,
                                                   max_batch_size=max(gpu_embed_batches)))
                label = {"device": device, "backend": name, "providers": engine.detector.backend.providers}
                report["detection"] += bench_detection(engine, frames, gpu_det_batches, repeats=max(repeats, 3),
                                                       budget_s=budget, label=label)
                if size == det_sizes[0]:
                    report["embedding"] += bench_embedding(engine, crops, gpu_embed_batches, repeats=max(repeats, 3),
                                                           budget_s=budget, label=label)
                del engine
        if torch_cuda():
            settle()
            report["matching"] += bench_matching_torch(dim, repeats=max(repeats, 3), budget_s=budget, sizes=match_references)

    report["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    report["peak_rss_mb"] = peak_rss_mb()
    report["seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out) if args.out else REPO / "bench" / "results" / f"engine-{host}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out} in {report['seconds']} s (peak RSS {report['peak_rss_mb']} MB)")
    return report


if __name__ == "__main__":
    main()

"""What the walk-by cut of a passer-by's photo costs the genuine score (docs/evaluation.md, "The whole head").

A real passer-by walks past with a whole head: hair, forehead, ears and chin are all in the recogniser's
aligned crop, and only what lies around the head is the street. This renders mated lfw-dev passers-by alone
in a 1920x1080 street frame at fixed eye distances, with the walk-by's blur and JPEG, under head cuts of
different sizes, and scores the face the live detector (640x384) finds against the person's enrolled
reference (the evaluate_live gallery split, label fixes, seed 0):

    .venv/bin/python bench/walkby_head.py [--walkers 150] [--out bench/results/walkby_head.json]

`tight (v1)` approximates the cut evaluate_live used before rendering version 2: a 3.2-eye-distance square
around the landmarks' mean and an ellipse 2.56 x 3.07 eye distances centred there, which cut the forehead and
hair off. Needs ../shared/data (lfw-dev and the street video); no Django.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recognition.evaluation.dataset import labelled_dataset
from recognition.evaluation.embedding import single_faces
from recognition.evaluation.protocol import build_split, split_identities
from recognition.evaluation.walkby import SourceFace, VideoBackground, WalkByConfig, WalkByScene
from recognition.ml.align import align_faces
from recognition.ml.engine import EngineConfig, FaceEngine
from recognition.ml.images import decode_image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SIZES = (24, 40, 60, 80)
CUTS = {
    "whole head (v2 default)": {},
    "head 2.4 wide": {"head_width": 2.4},
    "tight (v1)": {"crop_eye_widths": 3.2, "head_width": 2.56, "head_height": 3.07, "head_centre_above_eyes": -0.58},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=150)
    parser.add_argument("--threshold", type=float, default=0.45)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "walkby_head.json"))
    args = parser.parse_args()
    lfw, video = SHARED / "faces" / "lfw-dev", SHARED / "video" / "facenet_pytorch_video.mp4"
    if not lfw.is_dir() or not video.is_file():
        sys.exit(f"needs {lfw} and {video} (../shared/data is not part of the repository)")
    started = time.perf_counter()
    engine = FaceEngine(config=EngineConfig(det_size=(320, 320)))
    files, images, _ = labelled_dataset(lfw, "lfw-dev")
    split = build_split(images, split_identities({i: len(v) for i, v in images.items()}, gallery_size=2500, seed=0), seed=0)
    mated = list(split.mated)[:: max(1, len(split.mated) // args.walkers)][: args.walkers]
    photos = [decode_image(files[p.item].path.read_bytes()) for p in mated]
    references = [decode_image(files[split.references[p.identity][0]].path.read_bytes()) for p in mated]
    faces = single_faces(engine, photos, selection="central")
    gallery = single_faces(engine, references, selection="central")
    walkers = [(SourceFace(p.item, photo, f.face.box, f.face.landmarks), g.embedding)
               for p, photo, f, g in zip(mated, photos, faces, gallery, strict=True) if f.face is not None and g.face is not None]
    detector, background = engine.detector_at((640, 384)), VideoBackground(video)
    results = {}
    for name, change in CUTS.items():
        config = replace(WalkByConfig(), lanes=1, **change)
        scores: dict[int, list[float]] = {size: [] for size in SIZES}
        for index, (source, reference) in enumerate(walkers):
            scene = WalkByScene([source], config, background=background, seed=0, scene_index=index)
            sizes = [config.inter_ocular_at(f) for f in range(scene.frames)]
            for size in SIZES:
                frame = int(np.argmin([abs(s - size) for s in sizes]))
                image, placements = scene.render(frame)
                found = detector.detect_one(image)
                if not len(found):
                    scores[size].append(-1.0)  # not detected: no score, counted as a miss
                    continue
                nearest = int(np.argmin(np.linalg.norm(found.landmarks[:, 2] - placements[0].landmarks[2], axis=1)))
                crop = align_faces(image, found.landmarks[nearest][None], image_size=engine.embedder.spec.input_size)
                scores[size].append(float(engine.embedder.embed(crop, flip=False).vectors[0] @ reference))
        results[name] = {"config": change, "by_inter_ocular_px": {
            str(size): {"walkers": len(values), "mean_score": round(float(np.mean(values)), 4),
                        "at_threshold": round(float(np.mean(np.array(values) >= args.threshold)), 4)}
            for size, values in scores.items()}}
        print(f"{name:26s}", "  ".join(f"{size} px: mean {r['mean_score']:.3f}, >= {args.threshold} {r['at_threshold']:.3f}"
                                       for size, r in results[name]["by_inter_ocular_px"].items()), flush=True)
    report = {"walkers": len(walkers), "threshold": args.threshold, "model": engine.model_id, "cuts": results,
              "seconds": round(time.perf_counter() - started, 1),
              "host": {"node": platform.node(), "python": platform.python_version()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

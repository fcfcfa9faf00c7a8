"""Benchmark the demo's per-frame work on one 640x480 webcam frame with one face, stage by stage.

Stages: decode (the JPEG data URL the browser sends -> RGB array, as Gradio does), detect (Haar
on the frame shrunk to 320 wide, boxes scaled back), preprocess (crop + the training
preprocessing), classify (one direct model call), annotate (boxes and labels drawn, frame encoded
as the JPEG data URL sent back). Each backend runs in its own subprocess: Keras picks its backend
once per process. Not a test: it measures and records. From the repository root:

    python benchmarks/bench_frame.py                          # every installed backend, a quick run trained if needed
    python benchmarks/bench_frame.py --run RUN --backend torch
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_frame.py      # fewer frames, an untrained model (seconds, for CI)

Results are printed and written as JSON (default ``.benchmarks/bench_frame.json``, which git
ignores). Target: median end to end <= 15 ms per frame on the development machine.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAST_ENV = "EMOKIT_BENCH_FAST"
BACKENDS = ("torch", "jax", "tensorflow")
MODULES = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}
STAGES = ("decode", "detect", "preprocess", "classify", "annotate")
TARGET_MS = 15.0


def webcam_frame():
    """A 640x480 RGB frame with one real face: scikit-image's astronaut photograph, padded to 4:3."""
    import cv2
    import numpy as np
    from skimage import data

    photo = cv2.resize(data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 90, dtype=np.uint8)
    frame[:, 80:560] = photo
    return frame


def untrained_run(folder: Path) -> Path:
    """A run folder with the default small_cnn spec and freshly initialised weights (fast mode)."""
    from emokit import FER_CLASSES
    from emokit.backend import load_keras
    from emokit.builder import build_model
    from emokit.registry import build_registry
    from emokit.specs import spec_for

    registry = build_registry()
    _, keras = load_keras(registry, None)
    spec = spec_for(registry, "small_cnn", input_shape=(48, 48, 1), class_names=FER_CLASSES)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"arch": "small_cnn"}))
    (folder / "spec.json").write_text(spec.to_json())
    build_model(spec, keras).save_weights(folder / "model.weights.h5")
    return folder


def measure(run: Path, frames: int, warmup: int) -> dict:
    """Per-stage milliseconds over ``frames`` frames (after ``warmup``), on this process's backend."""
    import cv2
    import numpy as np
    from gradio.image_utils import decode_base64_to_image_array

    from emokit.demo.annotate import draw_faces
    from emokit.demo.components import to_data_url
    from emokit.demo.engine import STREAM_DETECT_WIDTH, STREAM_DETECTOR_OPTIONS, ScaledDetector, analyze
    from emokit.faces import HaarFaceDetector
    from emokit.predictor import Predictor
    from emokit.registry import build_registry
    from emokit.runs import Run

    predictor = Predictor(Run(run), build_registry(), os.environ.get("KERAS_BACKEND"))
    frame = webcam_frame()
    # What the browser sends: the canvas as a JPEG data URL (quality 0.92 by default).
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    sent = "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()
    results = {"full": {s: [] for s in (*STAGES, "total")}, "full_width_detect_ms": []}
    detector = ScaledDetector(HaarFaceDetector(**STREAM_DETECTOR_OPTIONS), STREAM_DETECT_WIDTH)  # as the demo's stream
    faces_seen = set()
    for i in range(warmup + frames):
        start = time.perf_counter()
        image = decode_base64_to_image_array(sent)  # what gr.Image(type="numpy") does with a streamed frame
        decoded = time.perf_counter()
        analysis = analyze(image, predictor, detector)
        annotate_start = time.perf_counter()
        to_data_url(draw_faces(image, analysis.faces))
        done = time.perf_counter()
        faces_seen.add(len(analysis.faces))
        if i >= warmup:
            stage = results["full"]
            stage["decode"].append((decoded - start) * 1e3)
            for key in ("detect", "preprocess", "classify"):
                stage[key].append(analysis.timings[key])
            stage["annotate"].append((done - annotate_start) * 1e3)
            stage["total"].append((done - start) * 1e3)
    # For comparison: Haar on the full 640x480 frame, same options.
    full = HaarFaceDetector(**STREAM_DETECTOR_OPTIONS)
    for _ in range(max(3, frames // 4)):
        start = time.perf_counter()
        full.detect(frame)
        results["full_width_detect_ms"].append((time.perf_counter() - start) * 1e3)
    # And model.predict, which the demo avoids.
    batch = analysis.batch
    predictor.model.predict(batch, verbose=0)
    predict_ms = []
    for _ in range(max(3, frames // 4)):
        start = time.perf_counter()
        predictor.model.predict(batch, verbose=0)
        predict_ms.append((time.perf_counter() - start) * 1e3)
    median = {k: round(statistics.median(v), 3) for k, v in results["full"].items()}
    return {
        "backend": predictor.backend.name,
        "frames": frames,
        "faces_per_frame": sorted(faces_seen),
        "median_ms": median,
        "p90_total_ms": round(sorted(results["full"]["total"])[int(0.9 * (frames - 1))], 3),
        "haar_full_640_median_ms": round(statistics.median(results["full_width_detect_ms"]), 3),
        "model_predict_median_ms": round(statistics.median(predict_ms), 3),
        "meets_target": median["total"] <= TARGET_MS,
    }


def worker(args: argparse.Namespace) -> None:
    """One backend, in this process: print one JSON line."""
    os.environ["KERAS_BACKEND"] = args.worker
    from emokit.demo.engine import INFERENCE_THREAD_ENV  # what `emokit demo` sets, before the backend loads

    for key, value in INFERENCE_THREAD_ENV.items():
        os.environ.setdefault(key, value)
    run = Path(args.run) if args.run else untrained_run(Path(tempfile.mkdtemp(prefix="emokit-bench-run-")))
    print("RESULT " + json.dumps(measure(run, args.frames, args.warmup)), flush=True)


def find_or_train_run(fast: bool) -> Path | None:
    """The newest run under $EMOKIT_RUNS_DIR/./runs, else None (fast mode builds an untrained one per backend)."""
    from emokit.runs import list_runs, runs_root

    runs = list_runs(runs_root(None))
    return runs[-1].path if runs else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="Run folder or name (default: the newest run; fast mode: an untrained model).")
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="Backend(s) to measure (default: all installed).")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--out", type=Path, default=REPO / ".benchmarks" / "bench_frame.json")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    fast = os.environ.get(FAST_ENV) == "1"
    args.frames = args.frames or (20 if fast else 200)
    args.warmup = args.warmup if args.warmup is not None else (3 if fast else 20)
    if args.worker:
        worker(args)
        return
    if args.run:
        from emokit.runs import find_run

        args.run = str(find_run(args.run).path)
    elif not fast:
        found = find_or_train_run(fast)
        args.run = str(found) if found else None
    backends = args.backend or [b for b in BACKENDS if importlib.util.find_spec(MODULES[b]) is not None]
    results = []
    for backend in backends:
        command = [sys.executable, __file__, "--worker", backend, "--frames", str(args.frames), "--warmup", str(args.warmup)]
        if args.run:
            command += ["--run", args.run]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend})
        line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            print(f"{backend}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(line[len("RESULT "):])
        results.append(result)
        m = result["median_ms"]
        print(f"{backend:>10}: " + "  ".join(f"{s} {m[s]:.2f}" for s in STAGES) + f"  | total {m['total']:.2f} ms median"
              f" (p90 {result['p90_total_ms']:.2f})  [Haar on full 640x480: {result['haar_full_640_median_ms']:.2f} ms;"
              f" model.predict: {result['model_predict_median_ms']:.1f} ms]", flush=True)
    record = {
        "run": args.run or "untrained small_cnn (fast mode)",
        "fast": fast,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "target_total_ms": TARGET_MS,
        "results": results,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

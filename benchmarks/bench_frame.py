"""Benchmark the frame pipeline on one 640x480 webcam frame with one face, stage by stage.

Frames go through :class:`emokit.inference.frames.FramePipeline`, the one pipeline the demo,
``emokit predict`` and the Python API use, with the demo's webcam settings. Stages: decode (the
JPEG data URL the browser sends -> RGB array, as Gradio does), detect (Haar on the frame shrunk to
320 wide, boxes scaled back; in a stream, only around the face's last box between full searches),
preprocess (crop with the run's margin + the training preprocessing), classify (one runtime call
for the frame's faces), annotate (boxes and labels drawn, frame encoded as the JPEG data URL sent
back). Each runtime runs in its own subprocess: Keras picks its backend once per process. Not a
test: it measures and records. From the repository root:

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
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (BACKENDS, FAST_ENV, RESULTS, command_line, emit, fresh_run, installed_backends, run_child,
                    write_results)  # also puts the repository on sys.path

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
    from emokit.backend import load_keras
    from emokit.registry import build_registry

    registry = build_registry()
    _, keras = load_keras(registry, None)
    return fresh_run(folder, "small_cnn", registry, keras)


def measure(run: Path, frames: int, warmup: int, runtime: str = "keras") -> dict:
    """Per-stage milliseconds over ``frames`` frames (after ``warmup``), on this process's backend.

    Two modes: ``stream`` keeps one face track across frames, as a webcam session does (a full
    search every ``TRACK_REFRESH_FRAMES`` frames, a search around the last box in between);
    ``full_search`` gives every frame a fresh track (a whole-frame search each time: a stream's
    first frame).
    """
    import cv2
    from gradio.image_utils import decode_base64_to_image_array

    from emokit.demo.components import to_data_url
    from emokit.demo.engine import STREAM_DETECT_WIDTH, STREAM_DETECTOR_OPTIONS
    from emokit.faces import open_detector
    from emokit.inference.frames import FramePipeline, detector_pool, runtime_label
    from emokit.inference.runtimes import open_runtime
    from emokit.inference.tracking import FaceTrack
    from emokit.registry import build_registry
    from emokit.runs import Run

    registry = build_registry()
    backend = os.environ.get("KERAS_BACKEND") if runtime == "keras" else None
    model = open_runtime(Run(run), registry, runtime, backend)
    pipeline = FramePipeline(model, detector_pool(registry, "haar", STREAM_DETECTOR_OPTIONS), detect_width=STREAM_DETECT_WIDTH)
    frame = webcam_frame()
    # What the browser sends: the canvas as a JPEG data URL (quality 0.92 by default).
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    sent = "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()
    modes = {}
    faces_seen = set()
    for mode in ("stream", "full_search"):
        stages = {s: [] for s in (*STAGES, "total")}
        track = FaceTrack()
        for i in range(warmup + frames):
            start = time.perf_counter()
            image = decode_base64_to_image_array(sent)  # what gr.Image(type="numpy") does with a streamed frame
            decoded = time.perf_counter()
            result = pipeline.analyze(image, track=track if mode == "stream" else FaceTrack(), annotate=True)
            encode_start = time.perf_counter()
            to_data_url(result.annotated)  # what the page receives
            done = time.perf_counter()
            faces_seen.add(len(result.faces))
            if i >= warmup:
                stages["decode"].append((decoded - start) * 1e3)
                for key in ("detect", "preprocess", "classify"):
                    stages[key].append(result.timings[key])
                stages["annotate"].append(result.timings["annotate"] + (done - encode_start) * 1e3)
                stages["total"].append((done - start) * 1e3)
        modes[mode] = {
            "median_ms": {k: round(statistics.median(v), 3) for k, v in stages.items()},
            "p90_total_ms": round(sorted(stages["total"])[int(0.9 * (frames - 1))], 3),
        }
    # For comparison: Haar on the full 640x480 frame, same options.
    full = open_detector(registry, "haar", STREAM_DETECTOR_OPTIONS)
    full_ms = []
    for _ in range(max(3, frames // 4)):
        start = time.perf_counter()
        full.detect(frame)
        full_ms.append((time.perf_counter() - start) * 1e3)
    # And model.predict, which the pipeline avoids (Keras runtime only).
    predict_ms = []
    keras_model = getattr(model, "model", None)
    if runtime == "keras" and keras_model is not None:
        batch = pipeline.analyze(frame).batch
        keras_model.predict(batch, verbose=0)
        for _ in range(max(3, frames // 4)):
            start = time.perf_counter()
            keras_model.predict(batch, verbose=0)
            predict_ms.append((time.perf_counter() - start) * 1e3)
    return {
        "backend": runtime_label(model),
        "frames": frames,
        "faces_per_frame": sorted(faces_seen),
        **modes,
        "haar_full_640_median_ms": round(statistics.median(full_ms), 3),
        "model_predict_median_ms": round(statistics.median(predict_ms), 3) if predict_ms else None,
        "meets_target": modes["stream"]["median_ms"]["total"] <= TARGET_MS,
    }


def worker(args: argparse.Namespace) -> None:
    """One backend, in this process: print one JSON line."""
    os.environ["KERAS_BACKEND"] = args.worker
    from emokit.inference.threads import prefer_one_math_thread

    prefer_one_math_thread()  # as `emokit demo` and `emokit predict` do, before the backend loads
    with tempfile.TemporaryDirectory(prefix="emokit-bench-frame-") as scratch:  # removed when measured
        run = Path(args.run) if args.run else untrained_run(Path(scratch, "run"))
        if args.runtime != "keras":
            run = exported_copy(run, Path(scratch), args.runtime)
        emit(measure(run, args.frames, args.warmup, args.runtime))


def exported_copy(run: Path, scratch: Path, format: str) -> Path:
    """``run`` itself if it has a current ``format`` export, else a temporary copy exported here (runs are never changed)."""
    import shutil

    from emokit.inference.export_records import current_exports
    from emokit.inference.exporting import export_run
    from emokit.registry import build_registry
    from emokit.runs import Run

    if format in current_exports(Run(run)):
        return run
    copy = scratch / "export" / run.name
    if not copy.exists():
        shutil.copytree(run, copy, ignore=shutil.ignore_patterns("checkpoint", "evaluations", "plots"))
    export_run(Run(copy), build_registry(), format)
    return copy


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
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_frame.json")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while each child measures (SIGCONT after)")
    parser.add_argument("--no-litert", action="store_true", help="Skip the LiteRT row (the run's `emokit export`).")
    parser.add_argument("--no-onnx", action="store_true", help="Skip the ONNX row (`emokit export --format onnx`).")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--runtime", choices=("keras", "litert", "onnx"), default="keras", help=argparse.SUPPRESS)
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
    backends = args.backend or installed_backends()
    # Keras on each backend, then the exports `--runtime auto` serves: LiteRT (converted through
    # TensorFlow, so it needs TensorFlow and ai-edge-litert installed) and ONNX (exported through Keras on
    # torch, run by onnxruntime).
    jobs = [(b, "keras") for b in backends]
    if not args.no_litert and all(importlib.util.find_spec(m) for m in ("tensorflow", "ai_edge_litert")):
        jobs.append(("tensorflow", "litert"))
    if not args.no_onnx and all(importlib.util.find_spec(m) for m in ("torch", "onnxruntime", "onnx")):
        jobs.append(("torch", "onnx"))
    results = []
    for backend, runtime in jobs:
        child = ["--worker", backend, "--runtime", runtime, "--frames", str(args.frames), "--warmup", str(args.warmup)]
        if args.run:
            child += ["--run", args.run]
        result = run_child(Path(__file__), child, env={"KERAS_BACKEND": backend}, pause=args.pause)
        if "error" in result:
            print(f"{backend} ({runtime}): failed\n{result['error']}", file=sys.stderr)
            results.append({"backend": f"{runtime} (on {backend})", "error": result["error"][-2000:]})  # kept, so a failure shows
            continue
        results.append(result)
        for mode in ("stream", "full_search"):
            m = result[mode]["median_ms"]
            print(f"{result['backend']:>11} {mode:>11}: " + "  ".join(f"{s} {m[s]:.2f}" for s in STAGES)
                  + f"  | total {m['total']:.2f} ms median (p90 {result[mode]['p90_total_ms']:.2f})", flush=True)
        predict = result["model_predict_median_ms"]
        print(f"{'':>23}[Haar on full 640x480: {result['haar_full_640_median_ms']:.2f} ms"
              + (f"; model.predict: {predict:.1f} ms]" if predict is not None else "]"), flush=True)
    path = write_results("bench_frame", {"command": command_line("bench_frame.py"),
                                         "run": args.run or "untrained small_cnn (fast mode)",
                                         "target_total_ms": TARGET_MS, "results": results}, args.out)
    print(f"written to {path}")


if __name__ == "__main__":
    main()

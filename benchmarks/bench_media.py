"""Benchmark ``emokit predict`` on folders and videos, and the ``fer`` package's ``Video`` on the same clip.

* **Folders** (:func:`emokit.inference.folders.predict_files`, what ``emokit predict MODEL DIR --csv``
  runs after loading the model): faces per second with detection (JPEG photos with one real face,
  Haar at its defaults) and without (``--no-detect``: 48x48 face crops), each with faces batched
  across images (``--batch 64``, the default) and one runtime call per image (``--batch 1``), so the
  batching gain is measured rather than assumed.
* **Video** (:func:`emokit.inference.video.analyze_video`, what ``emokit predict MODEL clip.mp4 --out
  DIR`` runs): frames per second on a generated 640x480 30 fps clip with two real faces moving
  (scikit-image's astronaut on its coffee photo; one face leaves, one enters): the whole job (decode,
  detect/track, classify, annotate, encode the annotated MP4, CSV, timeline PNG), with ``--every 1``
  and ``--every 3``; and its parts: decoding alone, and decode + analysis without any writing.
* **fer's Video** (``fer.classes.Video.analyze`` with ``fer.fer.FER()``, its defaults: Haar and the
  quantized LiteRT model; frames saved, annotated video written) on the same clip, when fer's
  package folder is found (``--fer-package``, ``$EMOKIT_FER_PACKAGE`` or ``/tmp/fer/ex``). fer is not
  installed into emokit's environment: its wheel is unpacked and put on ``PYTHONPATH`` in its own
  process. Two shims make it run here, neither touching its analysis: ``pkg_resources`` (fer
  imports it to find its model file; setuptools is not installed) and, as emokit uses the headless
  OpenCV wheel, ``cv2.waitKey``/``cv2.destroyAllWindows`` (fer calls them on every frame even with
  ``display=False``) are made no-ops. Get fer with::

      pip download --no-deps fer==25.10.3 -d /tmp/fer && mkdir -p /tmp/fer/ex && (cd /tmp/fer/ex && unzip -o ../fer-*.whl)

Models have fresh weights (speed does not depend on the values), ``vgg_fer`` at width 0.5 by default
(the bundled model's architecture); each runtime is measured in its own process: ``keras`` on torch,
``onnx`` (exported on torch) and ``litert`` (exported on TensorFlow) when installed. From the
repository root::

    python benchmarks/bench_media.py                     # every runtime, fer when found (a few minutes)
    python benchmarks/bench_media.py --runtime onnx --no-fer
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_media.py  # tiny sizes, keras only, no fer (CI)

Writes ``.benchmarks/bench_media.json``. Target (issue 20): video at least real time, 30 frames/s, on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, emit, fast, load_snapshot, run_child, write_results  # also puts the repository on sys.path

TARGET_FPS = 30.0
RUNTIMES = ("keras", "onnx", "litert")
#: Each runtime's Keras backend (the exporters need theirs: ONNX exports on torch, LiteRT on TensorFlow).
RUNTIME_BACKEND = {"keras": "torch", "onnx": "torch", "litert": "tensorflow"}
RUNTIME_MODULES = {"keras": ("torch",), "onnx": ("torch", "onnxruntime", "onnx"), "litert": ("tensorflow", "ai_edge_litert")}
FER_DEFAULT = "/tmp/fer/ex"
CLIP_FPS = 30.0


# -- data, generated in the parent and shared by every child ----------------------------------------------------


def scene(index: int, frames: int):
    """Frame ``index`` (RGB 640x480): the astronaut moving right on the coffee photo for the first 60% of the
    clip, a mirrored astronaut entering at 40% and moving left to the end."""
    import cv2
    import numpy as np
    from skimage import data

    face = data.astronaut()[17:210, 127:320]
    frame = cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)
    leaves, enters = int(frames * 0.6), int(frames * 0.4)
    if index < leaves:
        x = 10 + int(280 * index / max(1, leaves))
        frame[10:203, x:x + 193] = face
    if index >= enters:
        x = 430 - int(250 * (index - enters) / max(1, frames - enters))
        frame[280:473, x:x + 193] = np.ascontiguousarray(face[:, ::-1])
    return frame


def write_clip(path: Path, frames: int) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, (640, 480))
    for index in range(frames):
        writer.write(cv2.cvtColor(scene(index, frames), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_photos(folder: Path, count: int) -> Path:
    """``count`` JPEG photos (512x512) with one face each: the astronaut, mirrored, shifted and relit."""
    import cv2
    import numpy as np
    from skimage import data

    rng = np.random.default_rng(0)
    photo = data.astronaut()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = photo[:, ::-1] if i % 2 else photo
        image = np.clip(image.astype(np.float32) * rng.uniform(0.7, 1.2) + rng.uniform(-20, 20), 0, 255).astype(np.uint8)
        image = np.roll(image, int(rng.integers(-40, 40)), axis=1)
        cv2.imwrite(str(folder / f"photo{i:04d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def write_crops(folder: Path, count: int) -> Path:
    """``count`` 48x48 gray face crops (the synthetic faces), PNG."""
    import cv2
    import numpy as np

    from emokit_plugins.synthetic_faces import draw_face

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"crop{i:04d}.png"), draw_face(rng, i % 7, (48, 48), 1))
    return folder


# -- emokit, in a child per runtime ----------------------------------------------------------------------------------


def model_run(scratch: Path, arch: str, sets: list[str], runtime: str) -> Path:
    """A run folder with ``arch``'s spec and fresh weights, exported for ``runtime`` when it needs an export."""
    import json

    from emokit import FER_CLASSES
    from emokit.backend import load_keras
    from emokit.builder import build_model
    from emokit.registry import build_registry
    from emokit.runs import Run
    from emokit.specs import spec_for

    registry = build_registry()
    _, keras = load_keras(registry, None)
    folder = scratch / "run"
    folder.mkdir(parents=True)
    spec = spec_for(registry, arch, sets, input_shape=(48, 48, 1), class_names=FER_CLASSES)
    (folder / "config.json").write_text(json.dumps({"arch": arch}))
    (folder / "spec.json").write_text(spec.to_json())
    build_model(spec, keras).save_weights(folder / "model.weights.h5")
    if runtime != "keras":
        from emokit.inference.exporting import export_run

        export_run(Run(folder), registry, runtime)
    return folder


def timed_folder(predictor, folder: Path, *, detect: bool, batch: int) -> dict:
    """Faces/s and images/s of :func:`predict_files` over ``folder`` (after one warm-up image)."""
    from emokit.inference.folders import ImageResult, collect_inputs, predict_files

    pipeline = predictor.pipeline()
    paths = collect_inputs([folder]).images
    list(predict_files(pipeline, paths[:2], batch_size=batch))  # warm-up: first calls allocate
    start, cpu = time.perf_counter(), time.process_time()
    results = list(predict_files(pipeline, paths, batch_size=batch))
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    faces = sum(len(r.faces) for r in results if isinstance(r, ImageResult))
    return {"detect": detect, "batch": batch, "images": len(paths), "faces": faces, "seconds": round(seconds, 3),
            "faces_per_s": round(faces / seconds, 1), "images_per_s": round(len(paths) / seconds, 1),
            "cpu_ms_per_face": round(cpu_s / max(1, faces) * 1e3, 2)}


def timed_video(predictor, clip: Path, out: Path, every: int) -> dict:
    """Frames/s of the whole video job, of decoding alone and of decode + analysis (no writing)."""
    from emokit.inference.video import (VIDEO_DETECT_WIDTH, VIDEO_DETECTOR_OPTIONS, VideoReader, VideoSettings,
                                        analyze_video, track_faces)

    pipeline = predictor.pipeline(VIDEO_DETECTOR_OPTIONS, VIDEO_DETECT_WIDTH)
    settings = VideoSettings(every=every)
    start = time.perf_counter()
    with VideoReader(clip) as reader:
        frames = sum(1 for _ in reader.frames())
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    with VideoReader(clip) as reader:
        tracked = [len(faces) for _, faces in track_faces(pipeline, reader.frames(), settings)]
    analyse_s = time.perf_counter() - start
    cpu = time.process_time()
    result = analyze_video(pipeline, clip, out, settings)
    cpu_ms = (time.process_time() - cpu) / result.frames * 1e3
    return {"every": every, "frames": frames, "size": list(result.size), "faces_per_frame_max": max(tracked),
            "face_ids": len(result.face_frames), "faces": sum(result.face_frames.values()),
            "decode_fps": round(frames / decode_s, 1), "decode_analyse_fps": round(frames / analyse_s, 1),
            "whole_job_fps": round(result.frames_per_second, 1), "whole_job_s": round(result.seconds, 2),
            # CPU time (all threads) per frame: what the job costs whatever else shares the CPU.
            "whole_job_cpu_ms_per_frame": round(cpu_ms, 2), "fps_per_free_core": round(1e3 / cpu_ms, 1),
            "meets_target": result.frames_per_second >= TARGET_FPS}


def worker(args: argparse.Namespace) -> None:
    """One runtime, in this process: print one RESULT line."""
    from emokit.inference.prediction import check_prediction, open_predictor
    from emokit.inference.threads import prefer_one_math_thread

    prefer_one_math_thread()  # as `emokit predict` does, before the backend is imported
    from emokit.registry import build_registry

    with tempfile.TemporaryDirectory(prefix="emokit-bench-media-") as scratch:
        run = model_run(Path(scratch), args.arch, args.set or [], args.worker)
        registry = build_registry()
        rows = {}
        for detect in (True, False):
            setup = check_prediction(run, registry, detector="haar" if detect else None, runtime=args.worker)
            predictor = open_predictor(setup, registry)
            folder = Path(args.photos if detect else args.crops)
            rows["folder_detect" if detect else "folder_no_detect"] = [
                timed_folder(predictor, folder, detect=detect, batch=batch) for batch in (64, 1)]
        setup = check_prediction(run, registry, detector="haar", runtime=args.worker)
        predictor = open_predictor(setup, registry)
        rows["video"] = [timed_video(predictor, Path(args.clip), Path(scratch) / f"out{every}", every) for every in (1, 3)]
        from emokit.inference.frames import runtime_label

        emit({"runtime": runtime_label(predictor.runtime), "arch": args.arch, "sets": args.set or [], **rows})


# -- fer, in its own child ---------------------------------------------------------------------------------------------

FER_SCRIPT = r"""
import json, sys, time
import cv2
# emokit's headless OpenCV has no GUI; fer calls these on every frame even with display=False.
cv2.waitKey = lambda *args: -1
cv2.destroyAllWindows = lambda: None
from fer.fer import FER
from fer.classes import Video
clip, out = sys.argv[1], sys.argv[2]
detector = FER()
start, cpu = time.perf_counter(), time.process_time()
video = Video(clip, outdir=out)
frames = video.analyze(detector, display=False)   # fer's defaults: every frame, frames saved, annotated video written
seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
faces = sum(1 for frame in frames for key in frame if key.startswith("box"))
print("RESULT " + json.dumps({"frames": len(frames), "faces": faces, "seconds": round(seconds, 2),
                              "fps": round(len(frames) / seconds, 2), "cpu_ms_per_frame": round(cpu_s / len(frames) * 1e3, 1),
                              "fps_per_free_core": round(len(frames) / cpu_s, 2)}))
"""

PKG_RESOURCES_SHIM = '''"""A stand-in for setuptools' pkg_resources (not installed here): only what fer uses."""
import importlib.util, os
def resource_filename(package, path):
    return os.path.join(os.path.dirname(importlib.util.find_spec(package).origin), path)
'''


def find_fer(explicit: str | None) -> Path | None:
    for folder in (explicit, os.environ.get("EMOKIT_FER_PACKAGE"), FER_DEFAULT):
        if folder and (Path(folder) / "fer" / "classes.py").exists():
            return Path(folder)
    return None


def measure_fer(package: Path, clip: Path, scratch: Path, timeout: float) -> dict:
    """fer's ``Video.analyze`` on ``clip`` in a fresh process with fer's folder on ``PYTHONPATH``."""
    import json
    import subprocess

    paths = [str(package)]
    if importlib.util.find_spec("pkg_resources") is None:
        shim = scratch / "shim"
        shim.mkdir(exist_ok=True)
        (shim / "pkg_resources.py").write_text(PKG_RESOURCES_SHIM)
        paths.append(str(shim))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        done = subprocess.run([sys.executable, "-c", FER_SCRIPT, str(clip), str(scratch / "fer-out")], capture_output=True,
                              text=True, env=env, timeout=timeout, cwd=scratch)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        return {"error": f"exit {done.returncode}: {(done.stderr or done.stdout)[-1500:]}"}
    result = json.loads(line[len("RESULT "):])
    result["version"] = next((l.split("=")[1].strip().strip('"') for l in (package / "fer" / "__init__.py").read_text().splitlines()
                              if l.startswith("__version__")), "?")
    return result


def cpu_flags() -> list[str]:
    """The CPU's AVX2 / AVX-512 bf16 flags (what the project's docs quote with each figure)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    return sorted({flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {flag}" in text})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", action="append", choices=RUNTIMES, help="Runtime(s) to measure (default: every installed one).")
    parser.add_argument("--arch", default=None, help="Architecture (default vgg_fer; fast mode small_cnn).")
    parser.add_argument("--set", action="append", help="Architecture option, e.g. width=0.5 (default for vgg_fer).")
    parser.add_argument("--images", type=int, default=None, help="Photos (and as many crops) per folder.")
    parser.add_argument("--frames", type=int, default=None, help="Frames in the generated clip.")
    parser.add_argument("--fer-package", help="Folder holding fer's unpacked wheel (the `fer` package folder inside it).")
    parser.add_argument("--no-fer", action="store_true", help="Skip fer's Video.")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while each child measures (SIGCONT after).")
    parser.add_argument("--worker", choices=RUNTIMES, help=argparse.SUPPRESS)
    parser.add_argument("--photos", help=argparse.SUPPRESS)
    parser.add_argument("--crops", help=argparse.SUPPRESS)
    parser.add_argument("--clip", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = fast()
    args.arch = args.arch or ("small_cnn" if quick else "vgg_fer")
    if args.set is None and args.arch == "vgg_fer":
        args.set = ["width=0.5"]
    if args.worker:
        worker(args)
        return
    images = args.images or (12 if quick else 200)
    frames = args.frames or (20 if quick else 150)
    runtimes = args.runtime or (["keras"] if quick else
                                [r for r in RUNTIMES if all(importlib.util.find_spec(m) for m in RUNTIME_MODULES[r])])
    from common import RESULTS

    results: dict = {"target_fps": TARGET_FPS, "cpu_flags": cpu_flags(), "cpus": os.cpu_count(), "rows": []}
    with tempfile.TemporaryDirectory(prefix="emokit-bench-media-data-") as scratch:
        data = Path(scratch)
        photos, crops = write_photos(data / "photos", images), write_crops(data / "crops", images)
        clip = write_clip(data / "clip.mp4", frames)
        results.update(images=images, frames=frames, clip="640x480, 30 fps, mp4v, two faces (one leaves, one enters)")
        for runtime in runtimes:
            child = ["--worker", runtime, "--arch", args.arch, "--photos", str(photos), "--crops", str(crops), "--clip", str(clip)]
            for value in args.set or []:
                child += ["--set", value]
            row = run_child(Path(__file__), child, env={"KERAS_BACKEND": RUNTIME_BACKEND[runtime]}, pause=args.pause)
            results["rows"].append(row)
            report(runtime, row)
        package = None if (args.no_fer or quick) else find_fer(args.fer_package)
        if package is None:
            reason = "skipped (fast mode or --no-fer)" if (args.no_fer or quick) else \
                f"fer's package folder not found (--fer-package, $EMOKIT_FER_PACKAGE or {FER_DEFAULT})"
            results["fer_video"] = {"skipped": reason}
            print(f"fer Video: {reason}", flush=True)
        else:
            results["fer_video"] = {**measure_fer(package, clip, data, timeout=240), "load_at_start": load_snapshot()}
            fer = results["fer_video"]
            print("fer Video: " + (f"{fer['fps']:.1f} frames/s, {fer['cpu_ms_per_frame']:.0f} CPU ms/frame "
                                   f"({fer['frames']} frames, {fer['faces']} faces, fer {fer['version']})"
                                   if "fps" in fer else fer["error"]), flush=True)
    path = write_results("bench_media", {"command": command_line("bench_media.py"), **results},
                         args.out or RESULTS / "bench_media.json")
    print(f"written to {path}")


def report(runtime: str, row: dict) -> None:
    if "error" in row:
        print(f"{runtime}: failed\n{row['error']}", file=sys.stderr, flush=True)
        return
    for key in ("folder_detect", "folder_no_detect"):
        batched, single = row[key]
        print(f"{row['runtime']:>11} {key:>16}: {batched['faces_per_s']:8.1f} faces/s batched (--batch 64), "
              f"{single['faces_per_s']:8.1f} one call per image ({batched['faces_per_s'] / single['faces_per_s']:.2f}x)", flush=True)
    for video in row["video"]:
        print(f"{row['runtime']:>11} video --every {video['every']}: {video['whole_job_fps']:6.1f} frames/s whole job "
              f"({video['whole_job_cpu_ms_per_frame']:.1f} CPU ms/frame), "
              f"{video['decode_analyse_fps']:6.1f} decode+analysis, {video['decode_fps']:6.1f} decode alone "
              f"({video['faces']} faces, {video['face_ids']} ids)", flush=True)


if __name__ == "__main__":
    main()

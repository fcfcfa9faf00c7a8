"""Benchmark dataset loading: cold (empty cache) and cached loads, plus synthetic generation.

Not a test: it measures and records. Run from the repository root:

    python benchmarks/bench_data.py                      # the real FER-2013 zip (../shared/data/fer2013)
    python benchmarks/bench_data.py --data PATH.zip      # any dataset path
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_data.py  # a small generated zip, for CI (seconds)

Each repeat uses a fresh, empty cache folder for the cold load, then loads again for the cached
figure. Results are printed and written as JSON (default ``.benchmarks/bench_data.json``, which git
ignores). Targets on the development machine: cold <= 10 s, cached <= 1 s for the full zip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
FAST_ENV = "EMOKIT_BENCH_FAST"
TARGETS = {"cold_s": 10.0, "cached_s": 1.0}
FER_FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def default_data() -> Path | None:
    """The real FER-2013 zip: ``$EMOKIT_FER2013_DIR/fer2013.zip`` or ../shared/data/fer2013/fer2013.zip."""
    for folder in (os.environ.get("EMOKIT_FER2013_DIR"), REPO.parent / "shared" / "data" / "fer2013"):
        if folder and (Path(folder) / "fer2013.zip").exists():
            return Path(folder) / "fer2013.zip"
    return None


def make_small_zip(folder: Path, per_class: int = 40) -> Path:
    """A FER-layout zip of random 48x48 JPEGs: train/<class>/ and test/<class>/."""
    rng = np.random.default_rng(0)
    path = folder / "small-fer.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for split, count in (("train", per_class), ("test", per_class // 4)):
            for name in FER_FOLDERS:
                for i in range(count):
                    ok, data = cv2.imencode(".jpg", rng.integers(0, 256, (48, 48), dtype=np.uint8))
                    archive.writestr(f"{split}/{name}/{i:05d}.jpg", data.tobytes())
    return path


def measure(data: Path, repeat: int) -> dict[str, object]:
    """Cold and cached load times through ``open_dataset`` (the path every command takes)."""
    from emokit.data import open_dataset
    from emokit_plugins.synthetic_faces import load_synthetic
    from emokit.records import DataRequest
    from emokit.registry import build_registry

    registry = build_registry()
    cold, cached, synthetic = [], [], []
    images = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="emokit-bench-cache-") as cache:
            os.environ["EMOKIT_CACHE_DIR"] = cache
            start = time.perf_counter()
            dataset = open_dataset(registry, data, DataRequest(source=None))
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            open_dataset(registry, data, DataRequest(source=None))
            cached.append(time.perf_counter() - start)
            images = sum(len(split) for split in dataset.splits.values())
        start = time.perf_counter()
        load_synthetic(DataRequest(source=None))
        synthetic.append(time.perf_counter() - start)
    return {
        "data": str(data),
        "dataset": dataset.name,
        "images": images,
        "repeat": repeat,
        "cold_s": {"min": min(cold), "median": statistics.median(cold), "all": cold},
        "cached_s": {"min": min(cached), "median": statistics.median(cached), "all": cached},
        "synthetic_s": {"min": min(synthetic), "median": statistics.median(synthetic)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="dataset path (default: the real FER-2013 zip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / ".benchmarks" / "bench_data.json")
    args = parser.parse_args(argv)
    fast = os.environ.get(FAST_ENV) == "1"
    with tempfile.TemporaryDirectory(prefix="emokit-bench-data-") as scratch:
        data = args.data or (make_small_zip(Path(scratch)) if fast else default_data())
        if data is None:
            print("No FER-2013 zip found; pass --data PATH or set EMOKIT_BENCH_FAST=1.", file=sys.stderr)
            return 2
        result = measure(data, 1 if fast else args.repeat)
    result.update(
        fast=fast,
        command=" ".join(["python", "benchmarks/bench_data.py", *(argv if argv is not None else sys.argv[1:])]),
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        targets=TARGETS,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['data']}: {result['images']} images; cold {result['cold_s']['median']:.2f} s, "
        f"cached {result['cached_s']['median']:.3f} s (median of {result['repeat']}); "
        f"synthetic {result['synthetic_s']['median']:.2f} s -> {args.out}"
    )
    if not fast and result["data"] == str(default_data()):
        ok = result["cold_s"]["median"] <= TARGETS["cold_s"] and result["cached_s"]["median"] <= TARGETS["cached_s"]
        print("targets met" if ok else f"targets missed: {TARGETS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The decoded-array cache: a loaded dataset saved as an uncompressed .npz in the user's cache folder.

The key covers everything the arrays depend on (loader, source fingerprint, image size, channels,
val_fraction, seed, :data:`LOADER_VERSION`), so a stale entry is never read; it is simply not found.
Writes go through :func:`emokit.atomic.atomic_path` (a temporary file, then a rename), so a crash or a
second process never leaves a half-written entry behind.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emokit.atomic import atomic_path
from emokit.data.fingerprint import fingerprint_path, fingerprint_values
from emokit.records import DataRequest, Dataset, Split

#: Warnings are one plain line each, as :mod:`emokit.data.decode` explains.
logger = logging.getLogger(__name__)

#: Bump when decoding or splitting changes, so old cache entries are no longer used.
LOADER_VERSION = 2

#: Build a dataset from a source fingerprint; returns the dataset and a warning to repeat on cache hits.
Builder = Callable[[str], tuple[Dataset, str | None]]


def cache_dir() -> Path:
    """``$EMOKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/emokit``, else ``~/.cache/emokit`` (not created here)."""
    if os.environ.get("EMOKIT_CACHE_DIR"):
        return Path(os.environ["EMOKIT_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "emokit"
    return Path.home() / ".cache" / "emokit"


def cache_key(loader: str, fingerprint: str, request: DataRequest) -> str:
    """The file stem of a cache entry: readable loader name plus a hash of everything that matters."""
    size = tuple(int(v) for v in request.image_size)
    digest = fingerprint_values(loader, fingerprint, size, request.channels, float(request.val_fraction), request.seed, LOADER_VERSION)
    return f"{loader}-{fingerprint}-{digest}"


def cached_load(loader: str, request: DataRequest, build: Builder) -> Dataset:
    """Load ``request.source`` through the cache: a hit is read from disk, a miss is built and saved.

    A warning the build produced (images skipped) is repeated on a cache hit so it is not lost.
    """
    assert request.source is not None
    fingerprint = fingerprint_path(request.source)
    if not request.use_cache:
        dataset, _ = build(fingerprint)
        return dataset
    path = cache_dir() / "datasets" / f"{cache_key(loader, fingerprint, request)}.npz"
    hit = _read(path)
    if hit is not None:
        dataset, warning = hit
        if warning:
            logger.warning(warning)
        total = sum(len(split) for split in dataset.splits.values())
        if request.progress is not None:
            request.progress(total, total)
        return dataset
    dataset, warning = build(fingerprint)
    _write(path, dataset, warning)
    return dataset


def _read(path: Path) -> tuple[Dataset, str | None] | None:
    """A cached dataset, or ``None`` when there is none or it cannot be read (then it is rebuilt)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(stored["meta"].tobytes().decode())
            splits = {
                name: Split(images=stored[f"{name}__images"], labels=stored[f"{name}__labels"])
                for name in meta["splits"]
            }
    except Exception:  # a damaged or foreign file: rebuild rather than fail
        return None
    dataset = Dataset(
        name=meta["name"],
        class_names=tuple(meta["class_names"]),
        splits=splits,
        fingerprint=meta["fingerprint"],
        source=meta["source"],
        skipped=int(meta["skipped"]),
    )
    return dataset, meta.get("warning")


def _write(path: Path, dataset: Dataset, warning: str | None) -> None:
    """Save atomically; a cache that cannot be written only costs speed, so it warns and goes on."""
    meta = {
        "name": dataset.name,
        "class_names": list(dataset.class_names),
        "splits": list(dataset.splits),
        "fingerprint": dataset.fingerprint,
        "source": dataset.source,
        "skipped": dataset.skipped,
        "warning": warning,
        "loader_version": LOADER_VERSION,
    }
    arrays: dict[str, np.ndarray] = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for name, split in dataset.splits.items():
        arrays[f"{name}__images"] = split.images
        arrays[f"{name}__labels"] = split.labels
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)  # uncompressed: loading is a plain read
    except OSError as exc:
        logger.warning(f"Could not write the dataset cache in {path.parent}: {exc.strerror or exc}.")

"""Records that make a training misbehave on purpose (issue #18's interrupts and NaN losses).

``stuck_data`` behaves like a slow decode: it writes the file named by ``$EMOKIT_TEST_MARKER`` (so a
test knows loading has begun), then waits on worker threads that sleep for a minute, as emokit's
own thread pool does while decoding a large dataset. ``nan_pixels`` is an augmentation that turns
every pixel into NaN in training, so the loss is NaN from the first batch; ``fails_later`` passes
the checks before training and raises a few batches into it.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emokit import hookimpl
from emokit.records import AugmentationRecord, DataRequest, Dataset, DatasetRecord

#: How long each worker of ``stuck_data`` sleeps: far longer than a prompt stop may take.
STUCK_S = 60.0


def stuck_data(request: DataRequest) -> Dataset:
    """Never returns in time: four workers sleep while the main thread waits for them."""
    marker = os.environ.get("EMOKIT_TEST_MARKER")
    if marker:
        Path(marker).write_text("loading")
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(time.sleep, STUCK_S) for _ in range(4)]:
            future.result()
    raise AssertionError("stuck_data was meant to be stopped while it loads")


def nan_pixels(keras: Any) -> list[Any]:
    """Every pixel NaN in training (the identity at inference)."""

    class NanPixels(keras.layers.Layer):
        def call(self, images: Any, training: bool | None = None) -> Any:
            return images * float("nan") if training else images

    return [NanPixels()]


def fails_later(keras: Any, after: int = 3) -> list[Any]:
    """A layer that works for its first ``after`` calls in training, then raises: past every check, inside ``fit``."""

    class FailsLater(keras.layers.Layer):
        calls = 0

        def call(self, images: Any, training: bool | None = None) -> Any:
            if training:
                FailsLater.calls += 1
                if FailsLater.calls > after:
                    raise RuntimeError("the noise table ran out")
            return images

    return [FailsLater()]


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    return [DatasetRecord(name="stuck_data", summary="Waits on sleeping worker threads (tests stopping a training)",
                          load=stuck_data)]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [AugmentationRecord(name="nan_pixels", summary="Turns every pixel into NaN in training", build=nan_pixels),
            AugmentationRecord(name="fails_later", summary="Raises after a few training batches", build=fails_later,
                               options={"after": 3})]

"""Turn labelled arrays into a Dataset with train, val and test splits, carving the missing ones.

One rule for every loader: a split the source provides is used as is; ``val`` missing is carved
from ``train`` (``val_fraction`` of it, stratified, seeded); ``test`` missing is carved from
``train`` too, when the loader asks for it. Sources with no splits at all get both carved; sources
with no training images carve nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emokit.data.splits import check_fraction, stratified_split
from emokit.records import Split

Arrays = tuple[np.ndarray, np.ndarray]  # (images, labels)


def assemble_splits(given: Mapping[str | None, Arrays], val_fraction: float, seed: int, carve_test: bool) -> dict[str, Split]:
    """Splits ``train``, ``val`` and (when given or ``carve_test``) ``test`` from ``given``.

    ``given`` maps split name to (images, labels); the key ``None`` holds an unsplit source, which
    is treated as ``train``. Test is carved before val so that val's size does not change the test set.
    A source without training images (another dataset's ``test/`` alone) keeps just the splits it
    has: it can be evaluated on, and training refuses it for want of ``train``.
    """
    fraction = check_fraction(val_fraction)
    parts: dict[str, Arrays] = {}
    for name, arrays in given.items():
        parts["train" if name is None else name] = arrays
    if "train" in parts:
        if "test" not in parts and carve_test:
            parts["train"], parts["test"] = _carve(parts["train"], fraction, seed + 1)
        if "val" not in parts:
            parts["train"], parts["val"] = _carve(parts["train"], fraction, seed)
    return {name: Split(images=parts[name][0], labels=parts[name][1]) for name in ("train", "val", "test") if name in parts}


def _carve(arrays: Arrays, fraction: float, seed: int) -> tuple[Arrays, Arrays]:
    images, labels = arrays
    kept, carved = stratified_split(labels, fraction, seed)
    return (images[kept], labels[kept]), (images[carved], labels[carved])

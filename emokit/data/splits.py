"""Stratified, seeded splits: every class keeps its share, and the same seed gives the same split."""

from __future__ import annotations

import numpy as np

from emokit.errors import EmokitError


def check_fraction(fraction: float, what: str = "val_fraction") -> float:
    """``fraction`` as a float in [0, 1); anything else is an :class:`EmokitError`."""
    fraction = float(fraction)
    if not 0.0 <= fraction < 1.0:
        raise EmokitError(f"{what} must be at least 0 and below 1, got {fraction}.")
    return fraction


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, carved): about ``fraction`` of each class is carved, chosen at random by ``seed``.

    Each class gives ``round(n * fraction)`` items, at least one when it has two or more and the
    fraction is above zero, so a rare class still appears in a small validation split. Both index
    arrays are sorted, so the order of the source is kept.
    """
    fraction = check_fraction(fraction)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    carved: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = int(round(len(members) * fraction))
        if fraction > 0 and take == 0 and len(members) >= 2:
            take = 1
        carved.append(rng.permutation(members)[:take])
    carved_idx = np.sort(np.concatenate(carved)) if carved else np.zeros(0, dtype=np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[carved_idx] = False
    return np.flatnonzero(mask), carved_idx.astype(np.int64)

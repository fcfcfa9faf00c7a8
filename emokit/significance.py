"""Is one run really better than another on the same faces? McNemar's test and a bootstrap interval.

Both work on paired per-face correctness (the two runs' predictions on the same faces, in the same
order; see :mod:`emokit.split_predictions`), which is far more sensitive than comparing two
accuracies as if they came from different faces: only the faces the runs disagree on carry evidence.

* :func:`mcnemar`: the two-sided p-value that the runs are equally accurate. With fewer than
  :data:`EXACT_BELOW` discordant faces it is the exact binomial test; above, the chi-squared test
  with Edwards' continuity correction (1 degree of freedom). The method is part of the result.
* :func:`bootstrap_difference`: a seeded percentile interval of the accuracy difference, resampling
  faces (paired).

Pure NumPy and the standard library: no SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Below this many discordant faces, McNemar's test is the exact binomial one (the textbook rule).
EXACT_BELOW = 25
EXACT = "exact binomial"
CHI_SQUARED = "chi-squared, continuity-corrected"


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on two runs' per-face correctness."""

    #: Faces only the first run got right.
    only_first: int
    #: Faces only the second run got right.
    only_second: int
    #: The two-sided p-value that both runs are equally accurate.
    p_value: float
    #: :data:`EXACT` or :data:`CHI_SQUARED`.
    method: str
    #: The chi-squared statistic (``None`` for the exact test).
    statistic: float | None = None


@dataclass(frozen=True)
class Interval:
    """A bootstrap interval of ``second accuracy - first accuracy`` (a share: 0.02 is 2 points)."""

    difference: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int


def _paired(first_correct: np.ndarray, second_correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = np.asarray(first_correct, dtype=bool), np.asarray(second_correct, dtype=bool)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(f"paired correctness must be two 1-D arrays of one length, got {first.shape} and {second.shape}")
    return first, second


def mcnemar(first_correct: np.ndarray, second_correct: np.ndarray, exact_below: int = EXACT_BELOW) -> McNemarResult:
    """McNemar's test: do two classifiers, right or wrong on the same faces, differ in accuracy?

    Only the discordant faces count: ``b`` right only for the first, ``c`` right only for the
    second. Exact: ``p = min(1, 2 * P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``.
    Chi-squared: ``(max(|b - c| - 1, 0))^2 / (b + c)`` against 1 degree of freedom. Identical
    correctness (``b = c = 0``) gives ``p = 1``.
    """
    first, second = _paired(first_correct, second_correct)
    b = int(np.count_nonzero(first & ~second))
    c = int(np.count_nonzero(second & ~first))
    n = b + c
    if n < exact_below:
        tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n  # exact integers: n is small
        return McNemarResult(b, c, min(1.0, 2.0 * tail), EXACT)
    statistic = max(abs(b - c) - 1, 0) ** 2 / n
    # The chi-squared survival function with 1 degree of freedom is erfc(sqrt(x / 2)).
    return McNemarResult(b, c, math.erfc(math.sqrt(statistic / 2.0)), CHI_SQUARED, statistic)


def bootstrap_difference(first_correct: np.ndarray, second_correct: np.ndarray, resamples: int = 2000,
                         confidence: float = 0.95, seed: int = 0) -> Interval:
    """A percentile bootstrap interval of ``accuracy(second) - accuracy(first)``, resampling faces in pairs.

    Each face contributes ``d = second_correct - first_correct``, one of -1, 0, 1, and the
    difference is the mean of ``d``. Resampling ``n`` faces with replacement is therefore the same
    as drawing how many of each value a resample holds from a multinomial with the observed
    shares: exactly the paired bootstrap's distribution, in O(resamples) instead of O(resamples * n).
    """
    first, second = _paired(first_correct, second_correct)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = len(first)
    if n == 0:
        raise ValueError("no faces to compare")
    worse = int(np.count_nonzero(first & ~second))  # d = -1
    better = int(np.count_nonzero(second & ~first))  # d = +1
    shares = np.array([worse, n - worse - better, better], dtype=np.float64) / n
    counts = np.random.default_rng(seed).multinomial(n, shares, size=resamples)
    differences = (counts[:, 2] - counts[:, 0]) / n
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(differences, [tail, 100.0 - tail])
    return Interval((better - worse) / n, float(low), float(high), confidence, resamples, seed)

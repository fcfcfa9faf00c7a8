"""Check a DataRequest once, up front, so a bad option is one clear error rather than one per image."""

from __future__ import annotations

import numbers

from emokit.data.splits import check_fraction
from emokit.errors import EmokitError
from emokit.records import DataRequest


def check_request(request: DataRequest) -> None:
    """Raise :class:`EmokitError` for an image size below 1x1, channels other than 1 or 3, or a bad val_fraction."""
    size = tuple(request.image_size)
    if len(size) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in size):
        raise EmokitError(f"image_size must be (height, width) in whole pixels of at least 1, got {request.image_size}.")
    if request.channels not in (1, 3):
        raise EmokitError(f"channels must be 1 (grayscale) or 3 (RGB), got {request.channels}.")
    check_fraction(request.val_fraction)

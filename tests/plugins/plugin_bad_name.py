"""A record whose name cannot be typed as one command-line word (``--aug NAME=key=value``)."""

from emokit import hookimpl
from emokit.records import AugmentationRecord
from plugin_good import test_brightness


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [AugmentationRecord("my brightness", "Has a space in its name", test_brightness)]

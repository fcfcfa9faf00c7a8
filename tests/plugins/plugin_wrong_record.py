"""An augmentation record returned from the architectures hook."""

from emokit import hookimpl
from emokit.records import AugmentationRecord
from plugin_good import test_brightness


@hookimpl
def emokit_architectures() -> list[AugmentationRecord]:
    return [AugmentationRecord("bright", "Random brightness", test_brightness)]

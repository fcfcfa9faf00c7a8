"""A hook without @hookimpl: pluggy alone would silently ignore it."""

from emokit.records import AugmentationRecord


def emokit_augmentations() -> list[AugmentationRecord]:
    return []

"""emokit: a plugin-based experimentation toolkit for facial emotion recognition with CNNs."""

__version__ = "0.1.0"

#: FER-2013's classes in emokit's fixed order (the Kaggle CSV label order).
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

from emokit.hookspecs import hookimpl  # noqa: E402  (re-exported for plugin authors)

__all__ = ["FER_CLASSES", "__version__", "hookimpl"]

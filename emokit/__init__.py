"""emokit: a plugin-based experimentation toolkit for facial emotion recognition with CNNs.

``emokit.load(model)`` returns an :class:`~emokit.inference.api.Analyzer` (``analyze(image)`` -> faces
with boxes and per-class probabilities); ``load``, ``Analyzer`` and ``Face`` come from
:mod:`emokit.inference` on first use, so ``import emokit`` (which every plugin does) loads no model code.
"""

from typing import Any

__version__ = "0.1.0"

#: FER-2013's classes in emokit's fixed order (the Kaggle CSV label order).
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

from emokit.hookspecs import hookimpl  # noqa: E402  (re-exported for plugin authors)

#: The public Python API, re-exported from emokit.inference when first used.
_INFERENCE_API = ("Analyzer", "Face", "load")

__all__ = ["FER_CLASSES", "__version__", "hookimpl", *_INFERENCE_API]


def __getattr__(name: str) -> Any:
    if name in _INFERENCE_API:
        import emokit.inference  # noqa: PLC0415

        return getattr(emokit.inference, name)
    raise AttributeError(f"module 'emokit' has no attribute {name!r}")

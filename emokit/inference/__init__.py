"""Everything that turns pixels into emotions, usable from Python, the CLI and the demo alike.

* :mod:`~emokit.inference.runtime` - the ``Runtime`` protocol and ``ModelSource``
* :mod:`~emokit.inference.runtimes` - ``open_runtime``: a model on a runtime plugin (``keras``, ``litert``, ``onnx``)
* :mod:`~emokit.inference.preprocessing` - the run's recorded preprocessing (margin, input, TTA crop)
* :mod:`~emokit.inference.frames` - the one frame pipeline (decode, detect, track, crop, preprocess, classify, annotate)
* :mod:`~emokit.inference.tracking` - following faces between the frames of a stream
* :mod:`~emokit.inference.annotate` - boxes, labels and heat maps drawn with OpenCV
* :mod:`~emokit.inference.api` - the public Python API: ``load(...) -> Analyzer``, ``Analyzer.analyze(image)``

``load``, ``Analyzer``, ``Face`` and ``FramePipeline`` are importable from here; importing this package
loads none of them (and no OpenCV or Keras) until one is used.
"""

from __future__ import annotations

from typing import Any

#: Names importable from this package, and the module each comes from (imported on first use).
_LAZY = {"load": "api", "Analyzer": "api", "Face": "frames", "FramePipeline": "frames"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module  # noqa: PLC0415

        return getattr(import_module(f"emokit.inference.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'emokit.inference' has no attribute {name!r}")

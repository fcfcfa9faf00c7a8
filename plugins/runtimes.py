"""emokit's built-in runtimes (through the emokit_runtimes hook, like a third party's): keras, litert, onnx.

Each runtime's code is named by :class:`~emokit.records.LazyImport` and imported when a model is
opened on it: ``emokit --help`` imports this module, and numpy alone costs it a tenth of a second.
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.options import Option
from emokit.records import LazyImport, RuntimeRecord

from .file_formats import LITERT_INSTALL, LITERT_SUFFIX, ONNX_INSTALL, ONNX_SUFFIX

#: Interpreter threads per call: one by default (a frame's few faces are too small to split).
THREADS = Option(1, at_least=1)


@hookimpl
def emokit_runtimes() -> list[RuntimeRecord]:
    """Keras on any installed backend, and the run's LiteRT and ONNX exports on their lean runtimes."""
    return [
        RuntimeRecord(
            name="keras",
            summary="The run's Keras model on any installed backend (traced graphs for small batches on torch)",
            open=LazyImport("emokit_plugins.keras_runtime:KerasRuntime"),
            module="keras",
            install="pip install emokit  (Keras comes with it; a backend: pip install 'emokit[torch]')",
            options={"backend": ""},
        ),
        RuntimeRecord(
            name="litert",
            summary="The run's LiteRT export (emokit export --format litert) on ai-edge-litert",
            open=LazyImport("emokit_plugins.litert_format:LiteRTRuntime"),
            module="ai_edge_litert",
            install=LITERT_INSTALL,
            suffixes=(LITERT_SUFFIX,),
            options={"threads": THREADS},
        ),
        RuntimeRecord(
            name="onnx",
            summary="The run's ONNX export (emokit export --format onnx) on onnxruntime",
            open=LazyImport("emokit_plugins.onnx_format:OnnxRuntime"),
            module="onnxruntime",
            install=ONNX_INSTALL,
            suffixes=(ONNX_SUFFIX,),
            options={"threads": THREADS},
        ),
    ]

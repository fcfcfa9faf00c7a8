"""emokit's built-in exporters (through the emokit_exporters hook, like a third party's): litert and onnx."""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import ExporterRecord, LazyImport

from .file_formats import LITERT_SUFFIX, ONNX_SUFFIX


@hookimpl
def emokit_exporters() -> list[ExporterRecord]:
    """LiteRT (converted on TensorFlow; int8 weights with quantize=True) and ONNX (exported on torch)."""
    return [
        ExporterRecord(
            name="litert",
            summary="LiteRT (.tflite) for ai-edge-litert; converting needs TensorFlow; quantize=True stores int8 weights",
            export=LazyImport("emokit_plugins.litert_format:export_litert"),
            runtime="litert",
            suffix=LITERT_SUFFIX,
            options={"quantize": False},
        ),
        ExporterRecord(
            name="onnx",
            summary="ONNX (.onnx) for onnxruntime, through Keras' own export on the torch backend",
            export=LazyImport("emokit_plugins.onnx_format:export_onnx"),
            runtime="onnx",
            suffix=ONNX_SUFFIX,
        ),
    ]

"""What the record modules (runtimes.py, exporters.py) and the format modules both need to know about each
exported file format, kept here so the record modules stay light: ``emokit --help`` imports them."""

LITERT_SUFFIX = ".tflite"
LITERT_INSTALL = "pip install 'emokit[litert]'  (ai-edge-litert)"
ONNX_SUFFIX = ".onnx"
ONNX_INSTALL = "pip install 'emokit[onnx]'  (onnxruntime)"

"""The one preprocessing path: bytes -> uint8 image -> model input, shared by training, evaluation,
CLI prediction and the demo.

Arrays stay raw uint8 0-255 pixels everywhere; scaling to 0-1 happens inside the model (a
``Rescaling`` layer the model builder adds), so a saved model takes the same input as this module
produces and nothing outside the model has to remember the scale.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from emokit.errors import EmokitError

#: Images larger than this are refused before they are decoded (decompression bombs).
MAX_PIXELS = 40_000_000



class _QuietOpenCv:
    """Silence OpenCV's log while images decode, and give the level back once the last decode ends.

    OpenCV logs its own warnings ("PNG input buffer is incomplete", TIFF read errors) to stderr;
    emokit reports every unreadable image itself as one clear line, so they would only add noise.
    OpenCV's log level is process-wide, and decoding runs in several threads at once (the dataset
    decoder, the demo's requests): so the level is saved when the first decode starts and restored
    when the last one ends, never at import and never left changed for the host application.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = cv2.utils.logging.getLogLevel()
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
            self._active += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                cv2.utils.logging.setLogLevel(self._saved)


#: The one guard of OpenCV's process-wide log level (see :class:`_QuietOpenCv`).
_quiet_opencv = _QuietOpenCv()

# Formats OpenCV decodes itself; others (GIF, ICO, ...) are decoded by Pillow.
_OPENCV_FORMATS = frozenset({"JPEG", "PNG", "BMP", "TIFF", "WEBP", "PPM"})
# Pillow modes that hold one channel: decoded as grayscale rather than expanded to RGB.
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def decode_image(data: bytes, source: str) -> np.ndarray:
    """Decode an encoded image (JPEG, PNG, BMP, GIF, TIFF, WebP, ...) to uint8 (H, W) gray or (H, W, 3) RGB.

    The header is read first (Pillow reads it lazily) so empty data, non-images and images over
    :data:`MAX_PIXELS` are refused before any pixel is decoded. EXIF orientation is applied.
    Raises :class:`EmokitError` naming ``source`` when the data is not a readable image.
    """
    if len(data) == 0:
        raise EmokitError(f"{source}: empty file (0 bytes), not an image.")
    try:
        # Pillow itself warns above 89 and refuses above 179 megapixels; our lower limit is checked
        # below. (No warnings.catch_warnings here: it is not thread-safe and decoding runs in threads.)
        header = Image.open(io.BytesIO(data))
        width, height = header.size
        mode, kind = header.mode, header.format
    except UnidentifiedImageError:
        raise EmokitError(f"{source}: not an image (unrecognised file format).") from None
    except Image.DecompressionBombError:
        raise EmokitError(f"{source}: image is too large to decode safely (decompression bomb?).") from None
    except Exception as exc:  # Pillow raises assorted errors for damaged headers
        raise EmokitError(f"{source}: damaged image header ({exc}).") from None
    if width <= 0 or height <= 0:
        raise EmokitError(f"{source}: image has zero size ({width}x{height}).")
    if width * height > MAX_PIXELS:
        raise EmokitError(
            f"{source}: image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), "
            f"over the {MAX_PIXELS / 1e6:.0f} megapixel limit (decompression bomb?)."
        )
    gray = mode in _GRAY_MODES
    # OpenCV decodes faster than Pillow and releases the GIL, so threads decode in parallel.
    buffer = np.frombuffer(data, dtype=np.uint8)
    with _quiet_opencv:
        image = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    if image is None:
        if kind in _OPENCV_FORMATS:
            # Pillow is laxer (it skips some checksums), so a file OpenCV refuses is damaged.
            raise EmokitError(f"{source}: corrupt or truncated image (its {kind} data cannot be decoded).")
        image = _decode_with_pillow(data, source, gray)
    elif not gray:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    # (width, height) too: OpenCV turns photos to their EXIF orientation, which is wanted.
    if image.shape[:2] not in ((height, width), (width, height)):
        raise EmokitError(f"{source}: decoded size {image.shape[1]}x{image.shape[0]} differs from its header.")
    return image


def _decode_with_pillow(data: bytes, source: str, gray: bool) -> np.ndarray:
    """Fallback for formats OpenCV lacks (e.g. GIF); also gives the precise reason for a damaged file."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # raises for truncated or corrupt pixel data
            converted = image.convert("L" if gray else "RGB")
            return np.asarray(converted, dtype=np.uint8).copy()
    except OSError as exc:
        reason = str(exc).split(" (")[0] if "truncated" in str(exc) else str(exc)
        raise EmokitError(f"{source}: corrupt or truncated image ({reason}).") from None
    except Exception as exc:
        raise EmokitError(f"{source}: corrupt image ({type(exc).__name__}: {exc}).") from None


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file with :func:`decode_image`; a missing or unreadable path is an :class:`EmokitError`."""
    path = Path(path)
    if not path.exists():
        raise EmokitError(f"Image '{path}' does not exist.")
    if path.is_dir():
        raise EmokitError(f"Image '{path}' is a folder, not an image file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmokitError(f"Image '{path}' cannot be read: {exc.strerror or exc}.") from None
    return decode_image(data, str(path))


def to_model_input(image: np.ndarray, size: tuple[int, int] = (48, 48), channels: int = 1) -> np.ndarray:
    """Convert a uint8 gray (H, W), (H, W, 1) or RGB (H, W, 3) image to uint8 (height, width, channels).

    ``size`` is (height, width). Gray becomes RGB by repeating the channel; RGB becomes gray with
    OpenCV's ITU-R 601 weights (the same weights as Pillow's ``convert("L")``). Shrinking uses
    ``INTER_AREA`` (averages pixels, no aliasing); enlarging uses ``INTER_LINEAR``.
    """
    if channels not in (1, 3):
        raise EmokitError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}.")
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise EmokitError(f"Expected a uint8 image, got {image.dtype}.")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]  # drop alpha
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise EmokitError(f"Expected an image of shape (H, W) or (H, W, 3), got {image.shape}.")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise EmokitError(f"Image has zero size {image.shape[1]}x{image.shape[0]}.")
    if channels == 1 and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    elif channels == 3 and image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise EmokitError(f"Image size must be at least 1x1, got {height}x{width} (height x width).")
    if image.shape[:2] != (height, width):
        shrinking = height * width < image.shape[0] * image.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        image = cv2.resize(image, (width, height), interpolation=interpolation)
    if image.ndim == 2:
        image = image[:, :, None]
    return np.ascontiguousarray(image)


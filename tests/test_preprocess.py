"""The one preprocessing path: decoding real encoded bytes, refusing bad ones, shaping model input."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from emokit.errors import EmokitError
from emokit.preprocess import MAX_PIXELS, decode_image, read_image, to_model_input


def encode(image: np.ndarray, suffix: str = ".png") -> bytes:
    """Encode an RGB or gray uint8 image with OpenCV (which wants BGR)."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a tiny (invalid) body: a decompression bomb's header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_decode_keeps_gray_gray_and_colour_in_rgb_order():
    gray = np.arange(48 * 48, dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(decode_image(encode(gray), "g.png"), gray)
    rgb = np.zeros((10, 12, 3), dtype=np.uint8)
    rgb[:, :, 0] = 200  # pure red must stay in channel 0
    decoded = decode_image(encode(rgb), "red.png")
    assert decoded.shape == (10, 12, 3) and decoded.dtype == np.uint8
    assert decoded[0, 0].tolist() == [200, 0, 0]


def test_decode_reads_formats_opencv_lacks_through_pillow():
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 9), 77, dtype=np.uint8)).save(buffer, format="GIF")
    image = decode_image(buffer.getvalue(), "a.gif")
    assert image.shape[:2] == (8, 9)


def test_empty_data_is_refused_naming_the_source():
    with pytest.raises(EmokitError, match=r"^empty\.jpg: empty file \(0 bytes\), not an image\.$"):
        decode_image(b"", "empty.jpg")


def test_non_image_is_refused():
    with pytest.raises(EmokitError, match=r"^notes\.jpg: not an image \(unrecognised file format\)\.$"):
        decode_image(b"these are my notes, not a photo", "notes.jpg")


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_image_is_refused(suffix):
    rng = np.random.default_rng(0)
    data = encode(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), suffix)
    with pytest.raises(EmokitError, match=rf"^cut{suffix}: corrupt or truncated image"):
        decode_image(data[: len(data) // 2], f"cut{suffix}")


def test_corrupt_pixel_data_is_refused():
    data = bytearray(encode(np.full((32, 32), 128, dtype=np.uint8), ".png"))
    data[60:80] = b"\xff" * 20  # inside the compressed pixel data
    with pytest.raises(EmokitError, match=r"^bad\.png: corrupt"):
        decode_image(bytes(data), "bad.png")


def test_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(EmokitError, match=r"^bomb\.png: image is 8000x8000 pixels \(64 megapixels\), over the 40 megapixel limit"):
        decode_image(png_header_only(8_000, 8_000), "bomb.png")
    with pytest.raises(EmokitError, match=r"^huge\.png: image is too large to decode safely"):
        decode_image(png_header_only(20_000, 20_000), "huge.png")  # past Pillow's own hard limit
    assert MAX_PIXELS == 40_000_000


def test_read_image_names_a_missing_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(EmokitError, match=r"^Image '.*nope\.png' does not exist\.$"):
        read_image(missing)


def test_read_image_reads_a_file(tmp_path):
    path = tmp_path / "face.png"
    path.write_bytes(encode(np.full((20, 30), 9, dtype=np.uint8)))
    assert read_image(path).shape == (20, 30)


def test_to_model_input_shapes_and_conversions():
    rgb = np.zeros((96, 64, 3), dtype=np.uint8)
    rgb[..., 1] = 255
    gray = to_model_input(rgb, (48, 32), 1)
    assert gray.shape == (48, 32, 1) and gray.dtype == np.uint8
    assert gray[0, 0, 0] == round(0.587 * 255)  # ITU-R 601 luma of pure green
    back = to_model_input(np.full((10, 10), 40, dtype=np.uint8), (10, 10), 3)
    assert back.shape == (10, 10, 3) and (back == 40).all()


def test_to_model_input_shrinks_with_area_averaging():
    checker = (np.indices((96, 96)).sum(axis=0) % 2 * 255).astype(np.uint8)
    small = to_model_input(checker, (48, 48), 1)
    # INTER_AREA averages each 2x2 block to mid grey; nearest or bilinear sampling would alias.
    assert np.abs(small.astype(int) - 128).max() <= 1


def test_to_model_input_rejects_bad_channels():
    with pytest.raises(EmokitError, match="channels must be 1"):
        to_model_input(np.zeros((4, 4), dtype=np.uint8), (4, 4), 2)


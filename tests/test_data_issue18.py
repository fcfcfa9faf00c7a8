"""Issue #18, data: zip bombs, labels that auto-detection must not change, why a path cannot be opened,
clean skipped-image warnings, and test-only sources for evaluation. Every test makes its own data."""

from __future__ import annotations

import bz2
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit import FER_CLASSES
from emokit.data import open_dataset
from emokit.errors import EmokitError
from emokit.records import DataRequest
from emokit.registry import build_registry
from emokit_plugins.fer2013_files import load_fer2013
from tests.cli_utils import run_cli

FER_FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
REQUEST = DataRequest(source=None, use_cache=False)
MIB = 1 << 20


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def png(value: int) -> bytes:
    """A small gray PNG whose pixels are all ``value``."""
    return cv2.imencode(".png", np.full((12, 12), value, dtype=np.uint8))[1].tobytes()


def write_tree(root: Path, folders: dict[str, tuple[str, ...]], per_class: int = 3) -> Path:
    """``root/<split>/<class>/<i>.png`` for each split ("" for none) and its class folders."""
    for split, classes in folders.items():
        for k, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                (folder / f"{i}.png").write_bytes(png(20 * k + i))
    return root


def peak_memory(action: Callable[[], object]) -> tuple[int, BaseException | None]:
    """Peak bytes Python allocated while ``action`` ran (tracemalloc sees every thread), and what it raised."""
    tracemalloc.start()
    try:
        action()
        raised = None
    except Exception as exc:  # the caller asserts on it
        raised = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, raised


# --- item 1: zip bombs ----------------------------------------------------------------------------


def zeros_deflated(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``mib`` MiB of zeros (about 1 KB per MiB) and its CRC-32.

    After a full flush the compressor starts afresh, so one compressed MiB repeated is the whole
    stream: a 1 GiB bomb costs milliseconds to make instead of seconds of compression.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    one_mib = bytes(MIB)
    segment = compressor.compress(one_mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(one_mib, crc)
    return segment * mib + end, crc


def write_zip(path: Path, images: dict[str, bytes], raw: dict[str, tuple[bytes, int, int, int]]) -> Path:
    """A zip of ``images`` plus ``raw`` members: name -> (compressed bytes, method, CRC, declared size).

    zipfile cannot store bytes that are already compressed, so each raw member is stored as is and
    its method, CRC and uncompressed size are then written into both of its headers, which is how a
    hand-made (or hostile) archive can declare anything.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in images.items():
            archive.writestr(name, data)
        for name, (data, *_) in raw.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    blob = bytearray(path.read_bytes())
    for name, (_, method, crc, size) in raw.items():
        encoded = name.encode()
        for signature, name_at, (method_at, crc_at, size_at) in ZIP_HEADERS:
            start = blob.find(signature)
            while blob[start + name_at:start + name_at + len(encoded)] != encoded:
                start = blob.find(signature, start + 4)
            struct.pack_into("<H", blob, start + method_at, method)
            struct.pack_into("<L", blob, start + crc_at, crc)
            struct.pack_into("<L", blob, start + size_at, size)
    path.write_bytes(bytes(blob))
    return path


#: (signature, offset of the file name, offsets of method, CRC-32 and uncompressed size) of a zip's
#: local file header and its central directory entry (PKWARE APPNOTE 4.3.7 and 4.3.12).
ZIP_HEADERS = ((b"PK\x03\x04", 30, (8, 14, 22)), (b"PK\x01\x02", 46, (10, 16, 24)))


def pets_images(count: int = 4) -> dict[str, bytes]:
    return {f"pets/{name}/{i}.png": png(40 * k + i) for k, name in enumerate(("cat", "dog")) for i in range(count)}


def test_a_member_declaring_more_than_the_limit_is_refused_before_it_is_read(registry, tmp_path):
    bomb, crc = zeros_deflated(256)  # 256 MiB of zeros in about 260 KB
    archive = write_zip(tmp_path / "pets.zip", pets_images(), {"pets/dog/bomb.png": (bomb, zipfile.ZIP_DEFLATED, crc, 256 * MIB)})
    assert len(bomb) < MIB
    peak, raised = peak_memory(lambda: open_dataset(registry, archive, REQUEST))
    assert isinstance(raised, EmokitError)
    message = str(raised)
    assert f"{archive}:pets/dog/bomb.png" in message and "268.4 MB" in message and "\n" not in message
    assert peak < 16 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_a_member_that_expands_like_a_bomb_is_refused_even_under_the_size_limit(registry, tmp_path):
    bomb, crc = zeros_deflated(16)  # 16 MiB from 16 KB: about 1000:1, no image compresses like that
    archive = write_zip(tmp_path / "pets.zip", pets_images(), {"pets/cat/flat.bmp": (bomb, zipfile.ZIP_DEFLATED, crc, 16 * MIB)})
    peak, raised = peak_memory(lambda: open_dataset(registry, archive, REQUEST))
    assert isinstance(raised, EmokitError)
    assert f"{archive}:pets/cat/flat.bmp" in str(raised) and "expands" in str(raised)
    assert peak < 8 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_a_member_whose_header_understates_its_size_is_not_read_past_it(registry, tmp_path):
    # The header says 1,000 bytes; the data inflates to 256 MiB. Nothing past the declared size is kept.
    bomb, crc = zeros_deflated(256)
    archive = write_zip(tmp_path / "pets.zip", pets_images(), {"pets/dog/liar.png": (bomb, zipfile.ZIP_DEFLATED, crc, 1000)})
    peak, raised = peak_memory(lambda: open_dataset(registry, archive, REQUEST))
    assert isinstance(raised, EmokitError) and f"{archive}:pets/dog/liar.png" in str(raised)
    assert peak < 8 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_a_bzip2_member_is_refused_before_it_is_inflated(registry, tmp_path):
    # zipfile inflates a bzip2 member's whole input at once and only then cuts it to the declared
    # size, so a small lying header does not protect memory: such members are not read at all.
    data = bytes(16 * MIB)
    packed = bz2.compress(data, 1)
    lying = {"pets/cat/packed.png": (packed, zipfile.ZIP_BZIP2, zlib.crc32(data), 1000)}
    archive = write_zip(tmp_path / "pets.zip", pets_images(), lying)
    peak, raised = peak_memory(lambda: open_dataset(registry, archive, REQUEST))
    assert isinstance(raised, EmokitError)
    assert f"{archive}:pets/cat/packed.png" in str(raised) and "bzip2" in str(raised)
    assert peak < 8 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_an_honest_archive_still_loads(registry, tmp_path):
    archive = write_zip(tmp_path / "pets.zip", pets_images(6), {})
    dataset = open_dataset(registry, archive, REQUEST)
    assert dataset.class_names == ("cat", "dog") and sum(len(s) for s in dataset.splits.values()) == 12


# --- item 2: auto-detection keeps FER-2013's labels; every refusal says why ------------------------


def test_a_misspelled_fer_folder_is_an_error_not_an_eighth_class(registry, tmp_path):
    misspelled = tuple("hapy" if name == "happy" else name for name in FER_FOLDERS)
    root = write_tree(tmp_path / "fer", {"train": misspelled, "test": misspelled})
    with pytest.raises(EmokitError) as caught:
        open_dataset(registry, root, REQUEST)
    message = str(caught.value)
    assert "'train/hapy'" in message and "did you mean 'happy'?" in message and "\n" not in message
    assert ", ".join(FER_CLASSES) in message and "--dataset image_folder" in message


def test_a_misspelling_in_one_split_only_is_an_error(registry, tmp_path):
    misspelled = tuple("hapy" if name == "happy" else name for name in FER_FOLDERS)
    root = write_tree(tmp_path / "fer", {"train": FER_FOLDERS, "test": misspelled})
    with pytest.raises(EmokitError, match=r"'test/hapy'.*did you mean 'happy'\?"):
        open_dataset(registry, root, REQUEST)


def test_a_missing_fer_class_folder_is_an_error(registry, tmp_path):
    root = write_tree(tmp_path / "fer", {"train": tuple(n for n in FER_FOLDERS if n != "disgust"), "test": FER_FOLDERS})
    with pytest.raises(EmokitError, match=r"'train' has no folder for the FER-2013 class 'disgust'.*--dataset image_folder"):
        open_dataset(registry, root, REQUEST)


def test_a_generic_image_folder_keeps_its_own_classes(registry, tmp_path):
    root = write_tree(tmp_path / "moods", {"": ("calm", "happy", "sad")}, per_class=5)
    dataset = open_dataset(registry, root, REQUEST)
    assert dataset.name == "image_folder" and dataset.class_names == ("calm", "happy", "sad")


def test_a_generic_test_class_that_train_lacks_is_an_error(registry, tmp_path):
    root = write_tree(tmp_path / "pets", {"train": ("cat", "dog"), "test": ("cat", "dgo")})
    with pytest.raises(EmokitError, match=r"class folder 'test/dgo' is not in train \(cat, dog\); did you mean 'dog'\?"):
        open_dataset(registry, root, REQUEST)


def test_an_empty_class_folder_gives_the_reason(registry, tmp_path):
    root = write_tree(tmp_path / "fer", {"train": FER_FOLDERS, "test": FER_FOLDERS})
    for image in (root / "test" / "fear").iterdir():
        image.unlink()
    with pytest.raises(EmokitError, match=r"^No dataset plugin can open '.*fer': .*class folder 'test/fear' has no images\.$"):
        open_dataset(registry, root, REQUEST)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", r"empty file; expected a header 'emotion,pixels,Usage'"),
        ("emotion,Usage\n0,Training\n", r"missing column 'pixels' \(found: emotion, usage\)"),
    ],
)
def test_a_csv_that_is_not_fer_gives_the_reason(registry, tmp_path, text, reason):
    path = tmp_path / "faces.csv"
    path.write_text(text)
    with pytest.raises(EmokitError, match=rf"^No dataset plugin can open '.*faces\.csv': .*{reason}"):
        open_dataset(registry, path, REQUEST)


def test_one_class_folder_gives_the_reason(registry, tmp_path):
    root = write_tree(tmp_path / "pets", {"": ("cat",)})
    with pytest.raises(EmokitError, match=r"^No dataset plugin can open .*found 1 class folder \(cat\); at least 2 are needed"):
        open_dataset(registry, root, REQUEST)


# --- item 3: skipped images are one clean line naming them -----------------------------------------

LOAD_SCRIPT = "import sys; from pathlib import Path; from emokit_plugins.image_folder import load_image_folder; " \
              "from emokit.records import DataRequest; load_image_folder(DataRequest(source=Path(sys.argv[1])))"


def test_skipped_images_are_one_clean_line_naming_them(tmp_path):
    root = write_tree(tmp_path / "pets", {"": ("cat", "dog")}, per_class=30)
    (root / "cat" / "0.png").write_bytes(b"not a png")
    (root / "dog" / "7.png").write_bytes(b"")
    env = {**os.environ, "EMOKIT_CACHE_DIR": str(tmp_path / "cache")}
    for attempt in ("decoded", "from the cache"):
        proc = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(root)], env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, f"{attempt}: {proc.stderr}"
        assert "skipped 2 of 60 images" in lines[0] and "cat/0.png" in lines[0] and "dog/7.png" in lines[0]
        assert "UserWarning" not in lines[0] and "emokit/data" not in lines[0]  # no source file, no source line


# --- item 4: a test-only source can be evaluated, not trained on ----------------------------------


def test_a_test_only_layout_loads_only_its_test_split(registry, tmp_path):
    root = write_tree(tmp_path / "other", {"test": FER_FOLDERS}, per_class=2)
    dataset = open_dataset(registry, root, REQUEST)
    assert dataset.name == "fer2013" and dataset.class_names == FER_CLASSES
    assert set(dataset.splits) == {"test"} and len(dataset.splits["test"]) == 14
    assert dataset.counts("test") == dict.fromkeys(FER_CLASSES, 2)
    archive = write_zip(tmp_path / "other.zip", {f"other/test/{name}/0.png": png(9) for name in FER_FOLDERS}, {})
    zipped = load_fer2013(DataRequest(source=archive))
    assert set(zipped.splits) == {"test"}


@pytest.mark.slow
def test_training_still_needs_a_train_split(tmp_path, capsys):
    root = write_tree(tmp_path / "other", {"test": FER_FOLDERS}, per_class=2)
    code, _, err = run_cli(capsys, "train", "--data", str(root), "--epochs", "1", "--backend", "torch",
                           "--out", str(tmp_path / "runs"))
    assert code == 2 and "train" in err and "Traceback" not in err


@pytest.mark.slow
def test_evaluate_a_run_on_a_test_only_folder(trained_run, tmp_path, capsys, caplog):
    from emokit_plugins.synthetic_faces import draw_face

    root = tmp_path / "elsewhere"
    for label, name in enumerate(FER_CLASSES):
        (root / "test" / name).mkdir(parents=True)
        for i in range(6):
            face = draw_face(np.random.default_rng(1000 + 10 * label + i), label, (48, 48), 1)
            cv2.imwrite(str(root / "test" / name / f"{i}.png"), face)
    (root / "test" / "sad" / "broken.png").write_bytes(b"not a png")  # skipped, with one clean line (item 3)
    code, out, err = run_cli(capsys, "evaluate", str(trained_run.path), "--data", str(root), "--json")
    assert code == 0, err
    # In process, pytest's log capture takes the line; the subprocess test above shows it on stderr.
    assert "skipped 1 of 43 images that could not be read: " in caplog.text and "sad/broken.png" in caplog.text
    assert "UserWarning" not in err and "warnings.warn" not in err
    test = json.loads(out)["test"]
    assert sum(map(sum, test["confusion_matrix"])) == 42
    assert test["accuracy"] > 2 / len(FER_CLASSES)  # the drawn faces are what the run learnt: well above chance

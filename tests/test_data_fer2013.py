"""FER-2013 in every form: Kaggle CSV, image layout as a folder and as a zip; bad input; the real data."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit import FER_CLASSES
from emokit.errors import EmokitError
from emokit.records import DataRequest
from emokit_plugins.fer2013_files import can_open_fer2013, load_fer2013

FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")  # Kaggle's (alphabetical) folders


def face(label: int, index: int) -> np.ndarray:
    """A 48x48 gray image that encodes its class and index, so tests can tell images apart."""
    rng = np.random.default_rng(label * 1000 + index)
    image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    image[0, 0], image[0, 1] = label, index
    return image


def write_csv(path: Path, rows: list[tuple[str, str, str]], header: tuple[str, ...] = ("emotion", "pixels", "Usage")) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def fer_rows(per_split: dict[str, int]) -> list[tuple[str, str, str]]:
    rows = []
    for offset, (usage, count) in enumerate(per_split.items()):
        for label in range(7):
            for i in range(count):
                rows.append((str(label), " ".join(map(str, face(label, 50 * offset + i).ravel())), usage))
    return rows


def write_image_tree(root: Path, per_class: dict[str, int], folders=FOLDERS) -> Path:
    """root/<split>/<class>/<n>.png with lossless PNGs, so pixels survive exactly."""
    for split, count in per_class.items():
        for folder in folders:
            target = root / split / folder
            target.mkdir(parents=True, exist_ok=True)
            name = {"happiness": "happy"}.get(folder, folder)
            label = FER_CLASSES.index(name) if name in FER_CLASSES else 0
            for i in range(count):
                cv2.imwrite(str(target / f"{split}_{i:03d}.png"), face(label, i))
    return root


def load(path: Path, **options) -> object:
    return load_fer2013(DataRequest(source=path, **options))


# --- the Kaggle CSV -------------------------------------------------------------------------------


def test_csv_usage_maps_to_train_val_test(tmp_path):
    path = write_csv(tmp_path / "fer.csv", fer_rows({"Training": 4, "PublicTest": 2, "PrivateTest": 1}))
    assert can_open_fer2013(path)
    dataset = load(path)
    assert dataset.name == "fer2013" and dataset.class_names == FER_CLASSES
    assert {name: len(split) for name, split in dataset.splits.items()} == {"train": 28, "val": 14, "test": 7}
    assert dataset.counts("val") == dict.fromkeys(FER_CLASSES, 2)
    train = dataset.splits["train"]
    assert train.images.shape == (28, 48, 48, 1) and train.images.dtype == np.uint8
    # The pixels arrive unchanged and with their own label.
    assert all(int(image[0, 0, 0]) == int(label) for image, label in zip(train.images, train.labels))


def test_csv_without_usage_carves_val_and_test(tmp_path):
    rows = [row[:2] for row in fer_rows({"Training": 10})]
    dataset = load(write_csv(tmp_path / "plain.csv", rows, header=("emotion", "pixels")), val_fraction=0.2)
    sizes = {name: len(split) for name, split in dataset.splits.items()}
    assert sizes == {"train": 42, "val": 14, "test": 14}


def test_csv_resizes_and_converts_through_the_shared_path(tmp_path):
    path = write_csv(tmp_path / "fer.csv", fer_rows({"Training": 2, "PublicTest": 1}))
    dataset = load(path, image_size=(32, 40), channels=3)
    assert dataset.splits["train"].images.shape == (14, 32, 40, 3)


def test_csv_missing_column(tmp_path):
    path = write_csv(tmp_path / "fer.csv", [("0", "1 2 3")], header=("emotion", "Usage"))
    with pytest.raises(EmokitError, match=r"fer\.csv: missing column 'pixels' \(found: emotion, usage\)"):
        load(path)


def test_csv_wrong_pixel_count_names_the_row(tmp_path):
    rows = fer_rows({"Training": 3})
    label, pixels, usage = rows[15]
    rows[15] = (label, pixels.rsplit(" ", 1)[0], usage)  # one value short; header is row 1, so row 17
    with pytest.raises(EmokitError, match=r"fer\.csv row 17: expected 2304 pixel values, got 2303\.$"):
        load(write_csv(tmp_path / "fer.csv", rows))


def test_csv_label_out_of_range(tmp_path):
    rows = fer_rows({"Training": 1})
    rows[2] = ("7", rows[2][1], "Training")
    with pytest.raises(EmokitError, match=r"fer\.csv row 4: label 7 is out of range 0-6\.$"):
        load(write_csv(tmp_path / "fer.csv", rows))


def test_csv_non_numeric_pixel_and_unknown_usage(tmp_path):
    rows = fer_rows({"Training": 1})
    rows[0] = (rows[0][0], rows[0][1].replace(" ", " x ", 1), "Training")
    with pytest.raises(EmokitError, match=r"row 2: pixel value 'x' is not a whole number"):
        load(write_csv(tmp_path / "a.csv", rows))
    rows = fer_rows({"Training": 1})
    rows[1] = (rows[1][0], rows[1][1], "Holdout")
    with pytest.raises(EmokitError, match=r"row 3: unknown Usage 'Holdout'"):
        load(write_csv(tmp_path / "b.csv", rows))


# --- the Kaggle image layout ----------------------------------------------------------------------


def test_image_folder_layout_fixed_class_order_and_carved_val(tmp_path):
    root = write_image_tree(tmp_path / "fer", {"train": 10, "test": 3})
    (root / "README.txt").write_text("not an image, ignored")
    assert can_open_fer2013(root)
    dataset = load(root, val_fraction=0.2, seed=3)
    assert dataset.class_names == FER_CLASSES
    assert dataset.counts("train") == dict.fromkeys(FER_CLASSES, 8)
    assert dataset.counts("val") == dict.fromkeys(FER_CLASSES, 2)  # stratified
    assert dataset.counts("test") == dict.fromkeys(FER_CLASSES, 3)
    # Folder "happy" is label 3 even though it is the 4th folder alphabetically; "neutral" is 6, not 4.
    for split in dataset.splits.values():
        assert (split.images[:, 0, 0, 0] == split.labels).all()
    again = load(root, val_fraction=0.2, seed=3, use_cache=False)
    assert np.array_equal(again.splits["val"].images, dataset.splits["val"].images)  # seeded
    other = load(root, val_fraction=0.2, seed=4, use_cache=False)
    assert not np.array_equal(other.splits["val"].images, dataset.splits["val"].images)


def test_separate_validation_folder_is_used(tmp_path):
    root = write_image_tree(tmp_path / "fer", {"train": 4, "validation": 2, "test": 1})
    dataset = load(root)
    assert {name: len(split) for name, split in dataset.splits.items()} == {"train": 28, "val": 14, "test": 7}


def test_zip_gives_the_same_arrays_as_the_folder(tmp_path):
    root = write_image_tree(tmp_path / "archive", {"train": 5, "test": 2})
    archive = Path(shutil.make_archive(str(tmp_path / "fer"), "zip", tmp_path, "archive"))  # wrapped in archive/
    assert can_open_fer2013(archive)
    from_zip, from_folder = load(archive), load(root)
    for name in ("train", "val", "test"):
        assert np.array_equal(from_zip.splits[name].images, from_folder.splits[name].images)
        assert np.array_equal(from_zip.splits[name].labels, from_folder.splits[name].labels)


def test_folder_aliases_are_accepted(tmp_path):
    folders = ("angry", "disgust", "fear", "happiness", "neutral", "sad", "surprise")
    dataset = load(write_image_tree(tmp_path / "fer", {"train": 3, "test": 1}, folders=folders))
    assert dataset.counts("test")["happy"] == 1


def test_unknown_class_folder(tmp_path):
    root = write_image_tree(tmp_path / "fer", {"train": 2, "test": 1}, folders=(*FOLDERS[:-1], "suprise"))
    assert can_open_fer2013(root)  # six of the seven names: FER-2013 with a typo, not another dataset
    with pytest.raises(EmokitError, match=r"unknown class folder 'train/suprise' \(did you mean 'surprise'\?\); FER-2013 classes are angry, disgust"):
        load(root)


def test_empty_class_folder(tmp_path):
    root = write_image_tree(tmp_path / "fer", {"train": 2, "test": 1})
    for image in (root / "test" / "disgust").iterdir():
        image.unlink()
    with pytest.raises(EmokitError, match=r"class folder 'test/disgust' has no images\.$"):
        load(root)


def test_a_few_corrupt_images_are_skipped_with_a_warning(tmp_path, caplog):
    root = write_image_tree(tmp_path / "fer", {"train": 10, "test": 2})
    (root / "train" / "fear" / "train_000.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (root / "train" / "sad" / "train_001.png").write_text("plain text with an image name")
    dataset = load(root)
    assert re.search(r"skipped 2 of 84 images that could not be read: .*fear/train_000\.png.*; .*sad/train_001\.png", caplog.text)
    assert dataset.skipped == 2
    assert len(dataset.splits["train"]) + len(dataset.splits["val"]) == 68


def test_many_corrupt_images_are_an_error(tmp_path):
    root = write_image_tree(tmp_path / "fer", {"train": 3, "test": 1})
    for image in list((root / "train" / "angry").iterdir()):
        image.write_bytes(b"")
    with pytest.raises(EmokitError, match=r"3 of 28 images could not be read \(more than 5%\); first: .*empty file"):
        load(root)


def test_missing_path(tmp_path):
    with pytest.raises(EmokitError, match=r"^Data path '.*nowhere' does not exist\.$"):
        load(tmp_path / "nowhere")


# --- the real FER-2013 (skipped where ../shared is absent) ----------------------------------------

README_COUNTS = {  # train / test per class, from ../shared/data/fer2013/README.md
    "angry": (3995, 467), "disgust": (436, 56), "fear": (4097, 496), "happy": (7215, 895),
    "neutral": (4965, 607), "sad": (4830, 653), "surprise": (3171, 415),
}


@pytest.mark.realdata
def test_real_zip_has_the_readme_counts(fer2013):
    dataset = load(fer2013 / "fer2013.zip")
    assert dataset.skipped == 0
    assert len(dataset.splits["train"]) + len(dataset.splits["val"]) == 28_709
    assert len(dataset.splits["test"]) == 3_589
    train, val, test = (dataset.counts(s) for s in ("train", "val", "test"))
    assert {c: (train[c] + val[c], test[c]) for c in FER_CLASSES} == README_COUNTS
    assert abs(len(dataset.splits["val"]) / 28_709 - 0.1) < 0.001


@pytest.mark.realdata
def test_real_sample_csv(fer2013):
    dataset = load(fer2013 / "fer2013-sample.csv")
    assert {name: len(split) for name, split in dataset.splits.items()} == {"train": 350, "val": 70}
    assert dataset.counts("train") == dict.fromkeys(FER_CLASSES, 50)


@pytest.mark.realdata
def test_real_csv_and_image_paths_give_the_same_arrays(fer2013):
    rows = load(fer2013 / "fer2013-sample.csv")
    images = load(fer2013 / "fer2013.zip")
    # Index every zip image by its bytes; each sample row must be found with the same label and split.
    index = {}
    for split_name, split in images.splits.items():
        for image, label in zip(split.images, split.labels):
            index.setdefault(image.tobytes(), set()).add((int(label), "test" if split_name == "test" else "train"))
    for split_name, split in rows.splits.items():
        expected_split = "test" if split_name == "val" else "train"  # PublicTest rows are the zip's test folder
        for image, label in zip(split.images, split.labels):
            assert (int(label), expected_split) in index.get(image.tobytes(), set())

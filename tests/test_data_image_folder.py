"""The generic image-folder dataset: any class names, sizes and colours; both layouts; zip."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit.data import DatasetRejected
from emokit.errors import EmokitError
from emokit.records import DataRequest
from emokit_plugins.image_folder import can_open_image_folder, load_image_folder


def write_classes(root: Path, per_class: dict[str, int], rgb: bool = True) -> Path:
    """root/<class>/<i>.jpg with images of assorted sizes; class k's images are filled with 40*k+20."""
    for k, (name, count) in enumerate(sorted(per_class.items())):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = (30 + 7 * i, 50 + 3 * i, 3) if rgb else (30 + 7 * i, 50 + 3 * i)
            cv2.imwrite(str(root / name / f"{i:03d}.jpg"), np.full(shape, 40 * k + 20, dtype=np.uint8))
    return root


def load(path: Path, **options):
    return load_image_folder(DataRequest(source=path, **options))


def test_class_folders_only_carves_stratified_val_and_test(tmp_path):
    root = write_classes(tmp_path / "pets", {"dog": 20, "cat": 10, "bird": 30})
    assert can_open_image_folder(root)
    progress: list[tuple[int, int]] = []
    dataset = load(root, image_size=(32, 32), channels=3, val_fraction=0.1, progress=lambda d, t: progress.append((d, t)))
    assert progress[0] == (0, 60) and progress[-1] == (60, 60)
    assert dataset.name == "image_folder"
    assert dataset.class_names == ("bird", "cat", "dog")  # alphabetical
    assert dataset.counts("test") == {"bird": 3, "cat": 1, "dog": 2}
    assert dataset.counts("val") == {"bird": 3, "cat": 1, "dog": 2}
    assert sum(len(s) for s in dataset.splits.values()) == 60
    train = dataset.splits["train"]
    assert train.images.shape[1:] == (32, 32, 3) and train.images.dtype == np.uint8
    # Every image carries its class's fill value, so the labels follow the folders.
    for split in dataset.splits.values():
        assert np.allclose(split.images[:, 10, 10, 0], 40 * split.labels + 20, atol=2)


def test_split_folders_with_grayscale_images(tmp_path):
    for split, count in (("train", 12), ("test", 4)):
        write_classes(tmp_path / "data" / split, {"no": count, "yes": count}, rgb=False)
    dataset = load(tmp_path / "data", image_size=(24, 24), channels=1, val_fraction=0.25)
    assert {name: len(split) for name, split in dataset.splits.items()} == {"train": 18, "val": 6, "test": 8}
    assert dataset.splits["test"].images.shape == (8, 24, 24, 1)


def test_zip_archive(tmp_path):
    write_classes(tmp_path / "set", {"a": 6, "b": 6})
    archive = Path(shutil.make_archive(str(tmp_path / "set"), "zip", tmp_path / "set"))
    assert can_open_image_folder(archive)
    from_zip, from_folder = load(archive), load(tmp_path / "set")
    assert np.array_equal(from_zip.splits["train"].images, from_folder.splits["train"].images)


def test_one_class_is_not_enough(tmp_path):
    root = write_classes(tmp_path / "one", {"only": 5})
    with pytest.raises(DatasetRejected, match=r"found 1 class folder \(only\); at least 2 are needed"):
        can_open_image_folder(root)
    with pytest.raises(EmokitError, match=r"found 1 class folder \(only\); at least 2 are needed"):
        load(root)


def test_split_folders_mixed_with_class_folders(tmp_path):
    write_classes(tmp_path / "mixed" / "train", {"a": 2, "b": 2})
    write_classes(tmp_path / "mixed", {"c": 2})
    with pytest.raises(EmokitError, match=r"mixes split folders \(train\) with other folders \(c\)"):
        load(tmp_path / "mixed")


def test_loose_images_outside_class_folders(tmp_path):
    root = write_classes(tmp_path / "loose", {"a": 2, "b": 2})
    shutil.copy(root / "a" / "000.jpg", root / "stray.jpg")
    with pytest.raises(EmokitError, match=r"image 'stray\.jpg' is not inside a class folder"):
        load(root)

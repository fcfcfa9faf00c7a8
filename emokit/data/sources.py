"""Where image files come from: a folder on disk or a zip archive, behind one small interface.

Both list their files as relative POSIX paths and read one file's bytes; reads are safe from
several threads at once (the zip reader shares one file handle under a lock, as ``zipfile`` does).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from types import TracebackType

from emokit.errors import EmokitError

#: File name parts that are never data: macOS resource forks and hidden files.
_JUNK_FOLDERS = frozenset({"__MACOSX", ".git", ".ipynb_checkpoints"})


def is_junk(relative: str) -> bool:
    """Whether a relative path is operating-system litter (hidden files, ``__MACOSX``) rather than data."""
    return any(part.startswith(".") or part in _JUNK_FOLDERS for part in relative.split("/") if part)


class FolderSource:
    """Files under a folder on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.display = str(root)

    def listing(self) -> tuple[list[str], list[str]]:
        """(files, folders) as sorted relative POSIX paths, junk left out."""
        files: list[str] = []
        folders: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            prefix = "" if rel == "." else rel + "/"
            dirnames[:] = sorted(d for d in dirnames if not is_junk(d))
            folders.extend(prefix + d for d in dirnames)
            files.extend(prefix + f for f in filenames if not is_junk(f))
        return sorted(files), sorted(folders)

    def read(self, name: str) -> bytes:
        """The bytes of one file; an unreadable file is an :class:`EmokitError` naming it."""
        try:
            return (self.root / name).read_bytes()
        except OSError as exc:
            raise EmokitError(f"{self.name_of(name)}: cannot be read ({exc.strerror or exc}).") from None

    def name_of(self, name: str) -> str:
        """How one file is named in messages."""
        return str(self.root / name)

    def close(self) -> None:
        """Nothing to release for a folder."""

    def __enter__(self) -> FolderSource:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class ZipSource:
    """Files inside a zip archive, read without extracting it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise EmokitError(f"{path}: not a readable zip archive ({exc}).") from None
        self._members = {info.filename: info for info in self._zip.infolist()}

    def listing(self) -> tuple[list[str], list[str]]:
        """(files, folders) as sorted relative POSIX paths, junk left out; folders include implied ones."""
        files: list[str] = []
        folders: set[str] = set()
        # Plain string work: 30,000 members through pathlib would cost a noticeable part of a second.
        for name, info in self._members.items():
            clean = name.rstrip("/")
            if not clean or is_junk(clean):
                continue
            if info.is_dir():
                folders.add(clean)
            else:
                files.append(name)
            cut = clean.rfind("/")
            while cut > 0 and clean[:cut] not in folders:  # a known folder already has its parents
                folders.add(clean[:cut])
                cut = clean.rfind("/", 0, cut)
        return sorted(files), sorted(folders)

    def read(self, name: str) -> bytes:
        """The bytes of one member; a damaged member is an :class:`EmokitError` naming it."""
        try:
            return self._zip.read(self._members[name])
        except Exception as exc:  # zlib.error, BadZipFile (CRC), OSError
            raise EmokitError(f"{self.name_of(name)}: cannot be read from the archive ({exc}).") from None

    def name_of(self, name: str) -> str:
        """How one member is named in messages: ``archive.zip:folder/file.jpg``."""
        return f"{self.path}:{name}"

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()

    def __enter__(self) -> ZipSource:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


Source = FolderSource | ZipSource


def open_source(path: Path) -> Source:
    """A folder or a ``.zip`` file as a :data:`Source`; anything else is an :class:`EmokitError`."""
    if not path.exists():
        raise EmokitError(f"Data path '{path}' does not exist.")
    if path.is_dir():
        return FolderSource(path)
    if zipfile.is_zipfile(path):
        return ZipSource(path)
    raise EmokitError(f"{path}: expected a folder of class folders or a .zip archive of one.")

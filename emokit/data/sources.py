"""Where image files come from: a folder on disk or a zip archive, behind one small interface.

Both list their files as relative POSIX paths and read one file's bytes; reads are safe from
several threads at once (the zip reader shares one file handle under a lock, as ``zipfile`` does).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from types import TracebackType

from rich.filesize import decimal as readable_size

from emokit.errors import EmokitError

#: File name parts that are never data: macOS resource forks and hidden files.
_JUNK_FOLDERS = frozenset({"__MACOSX", ".git", ".ipynb_checkpoints"})

#: The most one archive member may expand to: far above any face photo, and small enough that the
#: decoding threads (up to 8) reading at once cannot exhaust memory.
MAX_MEMBER_BYTES = 32_000_000
#: Above this size a member may expand at most :data:`MAX_EXPANSION` times: images barely compress,
#: while a zip bomb is zeros that deflate about 1000:1.
EXPANSION_CHECKED_ABOVE = 1_000_000
MAX_EXPANSION = 100
#: The compression methods read. zipfile inflates a bzip2 or LZMA member's whole input at once and
#: only then cuts it to the declared size, so a lying header could not bound the memory they take.
_BOUNDED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}


class UnsafeArchiveError(EmokitError):
    """An archive member that emokit refuses to expand (a zip bomb, or a method it cannot bound).

    Unlike an unreadable image, which is skipped, this stops loading: the archive is hostile or broken.
    """


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
        """The bytes of one member; a damaged member is an :class:`EmokitError` naming it.

        The declared size, expansion and method are checked before anything is inflated
        (:class:`UnsafeArchiveError`), and no more than the declared size is ever inflated.
        """
        info = self._members[name]
        self._check_member(info)
        try:
            with self._zip.open(info) as member:
                # A bounded read: read() with no size inflates all the compressed input it holds
                # and only then cuts it to the declared size, so a header that understates a bomb's
                # size would still fill memory. With a size, zipfile inflates in steps of at most that.
                return member.read(info.file_size)
        except Exception as exc:  # zlib.error, BadZipFile (CRC), OSError
            raise EmokitError(f"{self.name_of(name)}: cannot be read from the archive ({exc}).") from None

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        """Refuse, before reading, a member too large, expanding like a bomb, or compressed with an unbounded method."""
        where = self.name_of(info.filename)
        if info.compress_type not in _BOUNDED_METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise UnsafeArchiveError(f"{where}: compressed with {method}; emokit reads only stored or deflated "
                                     "members (re-create the zip with standard compression).")
        if info.file_size > MAX_MEMBER_BYTES:
            raise UnsafeArchiveError(f"{where}: declares {readable_size(info.file_size)} uncompressed, more than the "
                                     f"{readable_size(MAX_MEMBER_BYTES)} one image may take (a zip bomb?); refusing to read it.")
        expansion = info.file_size / max(info.compress_size, 1)
        if info.file_size > EXPANSION_CHECKED_ABOVE and expansion > MAX_EXPANSION:
            raise UnsafeArchiveError(f"{where}: expands {expansion:,.0f} times ({readable_size(info.compress_size)} "
                                     f"to {readable_size(info.file_size)}), like a zip bomb and unlike any image; "
                                     "refusing to read it.")

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

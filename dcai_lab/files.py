"""Files written whole: a reader, or a process racing to write the same file (two runs of a sweep filling
the same cache), sees the old content or the new, never a part. And files' content hashes."""
from __future__ import annotations

import hashlib
import os
import uuid
from contextlib import contextmanager
from functools import cache
from pathlib import Path


@contextmanager
def whole(path) -> Path:
    """A temporary path beside ``path`` (unique to this writer) to write to; renamed onto ``path`` when the
    block ends without an error, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_whole(path, text: str) -> None:
    """Write ``text`` to ``path`` whole."""
    with whole(path) as temporary:
        temporary.write_text(text)


def sha256(path) -> str:
    """sha256 of a file's bytes, computed once per process for each (path, size, modification time)."""
    path = Path(path)
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


@cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""Files over the checkpoint size limit: recorded by size and hash, never stored.

A 2 GB build artefact must not be copied into the shadow repository at every
change. A file bigger than the limit (``[checkpoints] max_file_mb`` in the
spec) is checkpointed as a small placeholder blob naming its size and SHA-256,
so a diff still shows that it changed; its content is not kept. The index
entry keeps the real file's stat data, so an unchanged large file is not
read again. A restore never overwrites or removes such a file (its content
could not be brought back) and says so.
"""

from __future__ import annotations

import hashlib
import os
import stat

import pygit2
from pygit2.enums import FileMode

from tui.engine.index_entries import add_with_stat

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
MAGIC = b"loopconsole: over the checkpoint size limit, recorded by size and hash only\n"
_CHUNK = 1 << 20


def placeholder(size: int, sha256: str, limit: int) -> bytes:
    """The blob that stands in a checkpoint for a file over the limit."""
    return MAGIC + f"size: {size}\nsha256: {sha256}\nlimit: {limit}\n".encode()


def is_placeholder(repo: pygit2.Repository, oid: pygit2.Oid | str) -> bool:
    """Whether the blob ``oid`` is a large file's placeholder (reads only small blobs)."""
    try:
        kind, size = repo.odb.read_header(oid)  # type: ignore[attr-defined]
    except (KeyError, ValueError, pygit2.GitError):
        return False
    if size > 512:
        return False
    blob = repo[oid]
    return isinstance(blob, pygit2.Blob) and blob.data.startswith(MAGIC)


def human_size(n: int) -> str:
    """'2.0 GB', '5 MB', '812 KB'."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return (
                f"{value:.1f} {unit}"
                if value < 10 and value != int(value)
                else f"{value:.0f} {unit}"
            )
    return f"{n} bytes"


def record(
    repo: pygit2.Repository,
    index: pygit2.Index,
    root: bytes,
    rel: bytes,
    st: os.stat_result,
    limit: int,
) -> None:
    """Put ``rel``'s placeholder in ``index``, with the real file's stat data."""
    digest = hashlib.sha256()
    with open(os.path.join(root, rel), "rb", buffering=0) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    oid = repo.create_blob(placeholder(st.st_size, digest.hexdigest(), limit))
    mode = FileMode.BLOB_EXECUTABLE if st.st_mode & stat.S_IXUSR else FileMode.BLOB
    add_with_stat(index, rel, oid.raw, int(mode), st)


def note(paths: list[tuple[str, int]], limit: int) -> str:
    """The checkpoint's note about the large files it recorded."""
    shown = ", ".join(f"{p} ({human_size(n)})" for p, n in paths[:20])
    more = f" and {len(paths) - 20} more" if len(paths) > 20 else ""
    return (
        f"Recorded by size and SHA-256 only, not stored (over the {human_size(limit)} limit, "
        f"[checkpoints] max_file_mb): {shown}{more}."
    )

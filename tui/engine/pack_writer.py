"""Many new files into the shadow repository at once, as one pack instead of loose objects.

libgit2 writes every new blob as its own loose object (a temporary file, a
rename, a refresh of the pack list on each miss): for the first checkpoint of
a 100,000-file workspace that is 100,000 files created in the shadow
repository and most of the time spent. A pack is two files. This writes
git's pack format (version 2, whole objects, no deltas) and its index
(version 2) directly; libgit2 finds the new pack on its next lookup.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import zlib
from pathlib import Path

_BLOB = 3
_CHUNK = 1 << 20


class PackWriter:
    """Blobs appended one by one, then :meth:`finish` makes them a pack.

    Use as a context manager: leaving it without ``finish`` (an error) removes
    the temporary file, and the repository is as it was.
    """

    def __init__(self, objects_dir: Path) -> None:
        self.pack_dir = objects_dir / "pack"
        self.pack_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = self.pack_dir / f"tmp_pack_loopconsole_{os.getpid()}"
        self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in finish/abort
        self._file.write(b"PACK" + struct.pack(">II", 2, 0))  # count fixed in finish
        self._offset = 12
        self._seen: dict[bytes, tuple[int, int]] = {}  # oid -> (crc32, offset)

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._file.closed:
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, data: bytes) -> bytes:
        """Append one blob (once per content); return its object id (20 bytes)."""
        oid = hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
        if oid in self._seen:
            return oid
        size = len(data)
        first = (_BLOB << 4) | (size & 0x0F)
        size >>= 4
        header = bytearray()
        while size:
            header.append(first | 0x80)
            first = size & 0x7F
            size >>= 7
        header.append(first)
        body = zlib.compress(data, 1)
        crc = zlib.crc32(body, zlib.crc32(header))
        self._seen[oid] = (crc, self._offset)
        self._file.write(header)
        self._file.write(body)
        self._offset += len(header) + len(body)
        return oid

    def finish(self) -> Path | None:
        """Write the pack and its index into the repository; None when nothing was added."""
        if not self._seen:
            return None
        self._file.seek(8)
        self._file.write(struct.pack(">I", len(self._seen)))
        self._file.close()
        digest = hashlib.sha1()
        with open(self._tmp, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        checksum = digest.digest()
        with open(self._tmp, "ab") as f:
            f.write(checksum)
        name = f"pack-{checksum.hex()}"
        idx_tmp = self.pack_dir / f"tmp_idx_loopconsole_{os.getpid()}"
        idx_tmp.write_bytes(self._index(checksum))
        pack = self.pack_dir / f"{name}.pack"
        os.replace(self._tmp, pack)
        os.replace(idx_tmp, self.pack_dir / f"{name}.idx")  # last: libgit2 looks for .idx
        return pack

    def _index(self, checksum: bytes) -> bytes:
        oids = sorted(self._seen)
        fanout = [0] * 256
        for oid in oids:
            fanout[oid[0]] += 1
        total = 0
        for i in range(256):
            total += fanout[i]
            fanout[i] = total
        small: list[int] = []
        large: list[int] = []
        for oid in oids:
            offset = self._seen[oid][1]
            if offset < 0x80000000:
                small.append(offset)
            else:
                small.append(0x80000000 | len(large))
                large.append(offset)
        n = len(oids)
        out = b"".join(
            [
                b"\377tOc" + struct.pack(">I", 2),
                struct.pack(">256I", *fanout),
                b"".join(oids),
                struct.pack(f">{n}I", *(self._seen[o][0] for o in oids)),
                struct.pack(f">{n}I", *small),
                struct.pack(f">{len(large)}Q", *large),
                checksum,
            ]
        )
        return out + hashlib.sha1(out).digest()

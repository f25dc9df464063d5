"""A synthetic monorepo for the scale benchmarks, built once and kept under /tmp.

100,000 files of about 1 KB (about 100 MB) in 100 packages x 10 modules,
plus a ``.gitignore``. Building it takes a while, so it is kept in
``$LOOPCONSOLE_BENCH_DIR`` (default ``/tmp/loopconsole-monorepo``) and reused
while its marker file says it has the same number of files.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DIR = Path(os.environ.get("LOOPCONSOLE_BENCH_DIR", "/tmp/loopconsole-monorepo"))
_LINE = b"value = compute('some reasonably long line of python-ish source text')  # pad\n"


def file_path(root: Path, i: int) -> Path:
    """Where file number ``i`` lives."""
    return root / f"pkg{i % 100:02d}" / f"mod{(i // 100) % 10}" / f"file{i:06d}.py"


def build(root: Path, files: int = 100_000, size: int = 1_000) -> Path:
    """The plain tree of ``files`` files under ``root/plain``, built once."""
    plain = root / "plain"
    marker = root / f"plain.{files}.done"
    if marker.exists():
        return plain
    body = (_LINE * (size // len(_LINE) + 1))[:size]
    made: set[Path] = set()
    for i in range(files):
        p = file_path(plain, i)
        if p.parent not in made:
            p.parent.mkdir(parents=True, exist_ok=True)
            made.add(p.parent)
        p.write_bytes(b"# %d\n" % i + body)
    (plain / ".gitignore").write_text("*.log\nbuild/\nnode_modules/\n")
    marker.write_text("ok\n")
    return plain


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    out = build(DEFAULT_DIR, int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(f"{out} ready in {time.perf_counter() - t:.1f} s")

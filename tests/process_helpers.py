"""Helpers for tests that check no process outlives its command."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path


def alive_in_group(pgid: int) -> list[int]:
    """Processes of the group that still run (zombies waiting for init do not count)."""
    if not Path("/proc/self/stat").exists():  # macOS: no /proc; pgrep knows groups
        found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            alive.append(int(entry.name))
    return alive


async def wait_gone(pgid: int, within_s: float = 2.0) -> list[int]:
    """Wait until the group has no running process; return the survivors, if any."""
    deadline = time.monotonic() + within_s
    while (alive := alive_in_group(pgid)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return alive

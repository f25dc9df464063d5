"""The console attached to an engine process: controls over the socket, engine death."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.app.helpers import wait_for
from tests.test_live import _detach
from tui.app.app import ConsoleApp
from tui.app.screens.confirm_quit import ConfirmQuitScreen
from tui.engine.client import SocketConnection
from tui.engine.protocol import read_engine_info

pytestmark = pytest.mark.slow
SIZE = (110, 32)


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    return dict(os.environ)


def notes(app: ConsoleApp) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


async def test_controls_work_over_the_socket_and_engine_death_is_told(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, "--paused")
    info = read_engine_info(run_dir)
    assert info is not None
    connection = await SocketConnection.open(Path(info.socket))
    app = ConsoleApp(connection=connection)
    async with app.run_test(size=SIZE) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the catch-up")
        await pilot.press("s")
        await wait_for(pilot, lambda: store.current == 1 and store.status == "paused", "step")
        await pilot.press("t")
        await wait_for(pilot, lambda: app.main.taking_over, "the take-over")
        await pilot.press("t")
        await wait_for(pilot, lambda: not app.main.taking_over, "the hand-back")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuitScreen) and app.screen.can_leave
        await pilot.press("n")
        os.kill(info.pid, signal.SIGKILL)
        killed = time.monotonic()
        await wait_for(pilot, lambda: "loopconsole resume" in notes(app), "the death notice")
        assert time.monotonic() - killed < 2.0
        assert app.main.finished  # the controls are greyed out

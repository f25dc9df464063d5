"""Desktop notifications through the terminal: escape sequences and the bell.

The sequences iTerm2, WezTerm and Windows Terminal (OSC 9), foot and
urxvt (OSC 777) and kitty (OSC 99) turn into a notification; terminals that
know none of them ignore them. The bell follows, for everyone else.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import App

_UNSAFE = re.compile(r"[\x00-\x1f\x7f;]")  # nothing that could end or bend a sequence


def sequences(title: str, body: str) -> str:
    """The notification escape sequences for ``title`` and ``body``."""
    title, body = _UNSAFE.sub(" ", title)[:80], _UNSAFE.sub(" ", body)[:200]
    return (
        f"\x1b]9;{title}: {body}\x07"
        f"\x1b]777;notify;{title};{body}\x07"
        f"\x1b]99;;{title}: {body}\x1b\\"
    )


def terminal_notify(app: App[Any], title: str, body: str) -> None:
    """Notify through the terminal the app runs in (nothing when headless)."""
    driver = app._driver  # Textual writes its own escapes (the bell) the same way
    if not app.is_headless and driver is not None:
        driver.write(sequences(title, body))
    app.bell()

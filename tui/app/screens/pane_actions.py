"""Where the panes are and which keys reach them: the narrow layout (a tab per
pane below NARROW columns), keys 1-4, the footer's order, the help.

Mixed into :class:`tui.app.screens.main.MainScreen`.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding

from tui.app.keymap_check import shown_key
from tui.app.screens.console_base import ConsoleBase
from tui.app.screens.help import HelpScreen
from tui.app.widgets.pane import Pane
from tui.app.widgets.pane_tabs import PANES, PaneTabs

# Below this many columns the panes are shown one at a time.
NARROW = 100


class PaneActions(ConsoleBase):
    """key_for, show_pane (1-4), the active pane, footer_first and help."""

    def key_for(self, binding_id: str) -> str:
        """The key bound to ``binding_id`` as the footer shows it (the user's keymap applied)."""
        return shown_key(self, binding_id)

    def action_show_pane(self, pane: str) -> None:
        """Keys 1-4: go to a pane (in a narrow terminal, show it in place of the others)."""
        self.active_pane = pane
        self._show_active_pane()
        widget = self.query_one(f"#{pane}", Pane)
        target = next((w for w in widget.query("*") if w.focusable), None)
        (target or widget).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # The focus moved into another pane (tab, a click): that pane is the active one.
        pane = next((w for w in event.widget.ancestors_with_self if isinstance(w, Pane)), None)
        if pane is not None and pane.id != self.active_pane and pane.id:
            self.active_pane = pane.id
            self._show_active_pane()

    def _show_active_pane(self) -> None:
        for pane, _title in PANES:
            self.set_class(pane == self.active_pane, f"-show-{pane}")
        self.query_one(PaneTabs).show(self.active_pane, self)

    def footer_first(self) -> list[str]:
        """The actions the footer shows first, for the situation the run is in."""
        s = self.store
        if s.finished is not None or self.connection is None:
            return ["quit", "diff", "help"]
        if self.taking_over:
            return ["hand_back", "shell", "edit_file", "watch"]
        if s.status == "paused":
            first = ["finish"] if s.goal_met_now() else []
            if self._why_key() is not None:
                first.append("why")
            return [*first, "resume", "step", "take_over", "rewind", "revalidate"]
        return ["pause", "step", "stop"]

    def _why_key(self) -> str | None:
        """The key that explains the signal the run is paused on, if it is."""
        s = self.store
        paused_on_signal = s.status == "paused" and not s.paused_by_human and bool(s.signals)
        return self.key_for("signal") if paused_on_signal else None

    def action_help(self) -> None:
        # The console's own bindings, with the user's keymap applied.
        ours = [b.id for b in self.BINDINGS if isinstance(b, Binding)]
        rows = [
            (self.app.get_key_display(binding), binding)
            for node, bindings in self._binding_chain
            if node is self
            for _key, binding in bindings
            if binding.id in ours
        ]
        rows.sort(key=lambda row: ours.index(row[1].id))
        self.app.push_screen(HelpScreen(rows, self._other_screens_keys()))

    def _other_screens_keys(self) -> list[tuple[str, list[tuple[str, Binding]]]]:
        """The keys of every other screen, with the user's keymap applied."""
        from tui.app.screens.help_sections import SECTIONS

        keymap = self.app._keymap
        sections = []
        for title, bindings in SECTIONS():
            rows = []
            for b in bindings:
                key = keymap.get(b.id, b.key) if b.id else b.key
                shown = ", ".join(
                    self.app.get_key_display(Binding(k.strip(), b.action)) for k in key.split(",")
                )
                rows.append((shown, b))
            sections.append((title, rows))
        return sections

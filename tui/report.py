"""The post-mortem of a run: one self-contained HTML file and a Markdown file.

Both tell the story of :mod:`tui.engine.record`: goal and outcome, a table
per iteration (validators, tokens, cost, signals, decision, what the human
did), charts of passing checks and cumulative cost, and each iteration's
diff from the checkpoints. The HTML needs no network: styles and charts
(SVG) are inline and nothing is loaded from elsewhere. The pull-request
summary that ``land`` prints is the Markdown report's head.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.checkpoints import CheckpointError, Checkpoints
from tui.engine.fork import fork_groups, group_results, ranking_table
from tui.engine.record import IterationRecord, RunRecord, validator_words
from tui.figures import duration
from tui.spend import receipt_text

MAX_DIFF_CHARS = 200_000  # per iteration; a bigger patch is cut with a note


@dataclass
class ReportFiles:
    html: Path
    markdown: Path


def write_report(record: RunRecord, out_dir: Path | None = None) -> ReportFiles:
    """Write ``report.html`` and ``report.md`` (into the run folder by default)."""
    out = out_dir or record.run_dir
    out.mkdir(parents=True, exist_ok=True)
    diffs = iteration_diffs(record)
    forks = [ranking_table(group_results(g)) for g in fork_groups(record.run_dir) if g]
    files = ReportFiles(html=out / "report.html", markdown=out / "report.md")
    files.html.write_text(render_html(record, diffs, forks), encoding="utf-8")
    files.markdown.write_text(render_markdown(record, diffs, forks), encoding="utf-8")
    return files


def iteration_diffs(record: RunRecord) -> dict[int, str]:
    """Each iteration's patch (its agent checkpoint against the one before)."""
    try:
        checkpoints = Checkpoints.open_readonly(record.run_dir)
    except CheckpointError:
        return {}
    out: dict[int, str] = {}
    with checkpoints:
        for it in record.iterations:
            if it.checkpoint is None or not it.files_changed:
                continue
            try:
                patch = checkpoints.diff(None, it.checkpoint).patch
            except CheckpointError:
                continue
            if len(patch) > MAX_DIFF_CHARS:
                cut = len(patch) - MAX_DIFF_CHARS
                patch = patch[:MAX_DIFF_CHARS] + f"\n[... {cut:,} more characters not shown]\n"
            out[it.iteration] = patch
    return out


# -- words shared by both formats -------------------------------------------


def outcome_words(record: RunRecord) -> str:
    if record.finished is None:
        return record.outcome
    words = record.finished.outcome.replace("_", " ")
    reason = record.finished.reason
    if not reason or reason.startswith(words):
        return reason or words
    return f"{words}: {reason}"


def decision_words(it: IterationRecord) -> str:
    action = {"continue": "go on", "stop": "stop", "pause": "pause"}.get(it.action, it.action)
    return f"{action}: {it.reason}" if it.reason else action


def receipt_words(it: IterationRecord) -> str:
    """An iteration's receipt: tokens by kind, cost, the retries' share and where the
    figures came from (an older journal has no receipt: tokens by kind and cost)."""
    if it.receipt is not None:
        return receipt_text(it.receipt)
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in it.tokens_by_kind.items() if n)
    return f"${it.cost_usd:.4f} for {it.tokens:,} tokens" + (f" ({kinds})" if kinds else "")


def retries_note(record: RunRecord) -> str:
    """' · retries: 2 ($0.0031 of it)' when attempts were retried, else ''."""
    count, usd = record.retries()
    return f" · retries: {count} (${usd:.4f} of it)" if count else ""


def signal_words(it: IterationRecord) -> str:
    return ", ".join(s.kind.replace("_", " ") for s in it.signals)


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or " "


def summary_markdown(record: RunRecord) -> str:
    """Goal, outcome, iterations, validators, cost, signals, interventions: a PR description."""
    last = record.iterations[-1] if record.iterations else None
    signals = record.signals()
    interventions = record.interventions()
    lines = [
        f"## {record.started.name}: {outcome_words(record)}",
        "",
        "**Goal**",
        "",
        *[f"> {line}" if line else ">" for line in record.goal.strip().splitlines()],
        "",
        "| | |",
        "|---|---|",
        f"| Run | `{record.run_id}` |",
        f"| Outcome | {_md_cell(outcome_words(record))} |",
        f"| Iterations | {len(record.iterations)} |",
        f"| Validators | {_md_cell(last.validators_line()) if last else 'none ran'} |",
        f"| Cost | ${record.cost_usd:.4f} · {record.tokens:,} tokens{retries_note(record)}"
        + (f" · {duration(record.wall_s)}" if record.wall_s else "")
        + " |",
        f"| Signals | {_md_cell(_signals_list(signals)) if signals else 'none'} |",
        f"| Human interventions | {len(interventions) or 'none'} |",
    ]
    if interventions:
        lines += ["", "**What the engineer did**", ""]
        lines += [f"- iteration {n}: {_md_cell(what)}" for n, what in interventions]
    lines += [
        "",
        "| # | validators | decision | signals | tokens | cost |",
        "|---:|---|---|---|---:|---:|",
    ]
    for it in record.iterations:
        lines.append(
            f"| {it.iteration} | {_md_cell(it.validators_line())} | {_md_cell(decision_words(it))}"
            f" | {_md_cell(signal_words(it))} | {it.tokens:,} | ${it.cost_usd:.4f} |"
        )
    lines += ["", "_Landed by loopconsole from the run's checkpoints._"]
    return "\n".join(lines) + "\n"


def _signals_list(signals: list) -> str:  # type: ignore[type-arg]
    return "; ".join(f"{s.kind.replace('_', ' ')} (iteration {s.iteration})" for s in signals)


def render_markdown(record: RunRecord, diffs: dict[int, str], forks: Sequence[str] = ()) -> str:
    parts = [f"# loopconsole report: {record.started.name}", "", summary_markdown(record)]
    for table in forks:
        parts += ["### Fork branches, best first", "", "```", table, "```", ""]
    for it in record.iterations:
        parts += [f"### Iteration {it.iteration}", ""]
        parts += [f"- {validator_words(v)}" for v in it.validators] or ["- no validators ran"]
        parts.append(f"- decision: {decision_words(it)}")
        parts.append(f"- spend: {receipt_words(it)}")
        for s in it.signals:
            parts.append(f"- signal {s.kind}: {s.explanation}")
        for what in it.human:
            parts.append(f"- the engineer: {what}")
        patch = diffs.get(it.iteration)
        if patch:
            fence = "~~~~" if "```" in patch else "```"
            parts += ["", f"{fence}diff", patch.rstrip("\n"), fence]
        parts.append("")
    return "\n".join(parts)


# -- HTML -------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;
 color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border-bottom:1px solid #dde1e8;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.facts{width:auto}table.facts th{width:12rem}
.ok{color:#1a7f37}.bad{color:#c0392b}.warn{color:#9a6700}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:12px}
.add{color:#1a7f37}.del{color:#c0392b}.hunk{color:#6f42c1}
blockquote{border-left:3px solid #dde1e8;margin:0;padding:.2rem .8rem;white-space:pre-wrap}
.charts{display:flex;gap:2rem;flex-wrap:wrap}figure{margin:0}figcaption{font-size:12px;color:#555}
"""


def render_html(record: RunRecord, diffs: dict[int, str], forks: Sequence[str] = ()) -> str:
    esc = html.escape
    last = record.iterations[-1] if record.iterations else None
    met = record.finished is not None and record.finished.outcome == "goal_met"
    rows = "\n".join(_html_row(it) for it in record.iterations)
    facts = [
        ("Run", f"<code>{esc(record.run_id)}</code>"),
        ("Outcome", f"<span class={'ok' if met else 'bad'}>{esc(outcome_words(record))}</span>"),
        ("Iterations", str(len(record.iterations))),
        ("Validators", esc(last.validators_line()) if last else "none ran"),
        ("Cost", f"${record.cost_usd:.4f} · {record.tokens:,} tokens{retries_note(record)}"),
        ("Duration", duration(record.wall_s) if record.wall_s else "unknown"),
        ("Signals", esc(_signals_list(record.signals())) or "none"),
        ("Human interventions", str(len(record.interventions()) or "none")),
    ]
    fact_rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    details = "\n".join(_html_iteration(it, diffs.get(it.iteration)) for it in record.iterations)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>loopconsole report: {esc(record.started.name)}</title>
<style>{_CSS}</style></head><body>
<h1>loopconsole report: {esc(record.started.name)}</h1>
<h2>Goal</h2><blockquote>{esc(record.goal.strip())}</blockquote>
<table class="facts">{fact_rows}</table>
<h2>Progress</h2><div class="charts">
<figure>{_bars_svg(record)}<figcaption>passing checks per iteration</figcaption></figure>
<figure>{_cost_svg(record)}<figcaption>cumulative cost (USD)</figcaption></figure>
</div>
{"".join(f"<h2>Fork branches, best first</h2><pre>{esc(t)}</pre>" for t in forks)}
<h2>Iterations</h2>
<table><tr><th>#</th><th>validators</th><th>decision</th><th>signals</th><th>the engineer</th>
<th>tokens</th><th>cost</th><th>files</th></tr>
{rows}</table>
<h2>Changes</h2>
{details}
<p style="color:#777;font-size:12px">Written by loopconsole from {esc(str(record.run_dir))}.</p>
</body></html>
"""


def _html_row(it: IterationRecord) -> str:
    esc = html.escape
    cls = "ok" if it.outcome == "goal_met" else ("warn" if it.signals else "")
    return (
        f"<tr><td class=n>{it.iteration}</td><td>{esc(it.validators_line())}</td>"
        f"<td class={cls or 'plain'}>{esc(decision_words(it))}</td>"
        f"<td>{esc(signal_words(it))}</td><td>{esc('; '.join(it.human))}</td>"
        f"<td class=n title='{esc(receipt_words(it))}'>{it.tokens:,}</td>"
        f"<td class=n>${it.cost_usd:.4f}</td>"
        f"<td class=n>{it.files_changed} (+{it.insertions} −{it.deletions})</td></tr>"
    )


def _html_iteration(it: IterationRecord, patch: str | None) -> str:
    esc = html.escape
    signals = "".join(
        f"<p class=warn>signal {esc(s.kind)}: {esc(s.explanation)}</p>" for s in it.signals
    )
    body = _html_patch(patch) if patch else "<p>No change to the workspace.</p>"
    signals += f"<p>Spend: {esc(receipt_words(it))}</p>"
    summary = f"Iteration {it.iteration}: {esc(decision_words(it))}"
    return f"<details><summary>{summary}</summary>{signals}{body}</details>"


def _html_patch(patch: str) -> str:
    out = []
    for line in patch.splitlines():
        cls = ""
        if line.startswith("+") and not line.startswith("+++"):
            cls = "add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        text = html.escape(line)
        out.append(f'<span class="{cls}">{text}</span>' if cls else text)
    return "<pre>" + "\n".join(out) + "</pre>"


_W, _H, _PAD = 420, 160, 24


def _bars_svg(record: RunRecord) -> str:
    its = record.iterations
    if not its:
        return "<p>No iteration finished.</p>"
    top = max(max(it.total for it in its), 1)
    width = (_W - 2 * _PAD) / len(its)
    bars = []
    for i, it in enumerate(its):
        h = (_H - 2 * _PAD) * it.passing / top
        x = _PAD + i * width
        colour = "#1a7f37" if it.outcome == "goal_met" else "#4a6fa5"
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{_H - _PAD - h:.1f}" width="{max(width - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>iteration {it.iteration}: '
            f"{it.passing}/{it.total}</title></rect>"
        )
    return _svg(bars, f"{top} checks", f"1…{its[-1].iteration}")


def _cost_svg(record: RunRecord) -> str:
    its = record.iterations
    if not its:
        return "<p>No iteration finished.</p>"
    top = max(max(it.cost_total_usd for it in its), 1e-9)
    step = (_W - 2 * _PAD) / max(len(its) - 1, 1)
    points = " ".join(
        f"{_PAD + i * step:.1f},{_H - _PAD - (_H - 2 * _PAD) * it.cost_total_usd / top:.1f}"
        for i, it in enumerate(its)
    )
    line = f'<polyline points="{points}" fill="none" stroke="#c0392b" stroke-width="2"/>'
    return _svg([line], f"${top:.4f}", f"1…{its[-1].iteration}")


def _svg(shapes: list[str], top_label: str, x_label: str) -> str:
    axis = (
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#999"/>'
        f'<text x="{_PAD}" y="14" font-size="11">{html.escape(top_label)}</text>'
        f'<text x="{_W - _PAD}" y="{_H - 6}" font-size="11" text-anchor="end">'
        f"iteration {html.escape(x_label)}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img">{axis}{"".join(shapes)}</svg>'
    )

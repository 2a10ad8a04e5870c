"""A session as a readable Markdown transcript with its scorecard, or as complete JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.interviewer.render import scorecard_text
from bot.sessions import SessionDB

SPEAKER = {"candidate": "You", "interviewer": "Interviewer"}


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def session_markdown(db: SessionDB, session_id: str) -> str:
    summary = db.summary(session_id)
    card = db.scorecard(session_id)
    lines = [
        f"# {summary.title}",
        "",
        f"- Session: `{summary.id}` ({summary.mode.value})",
        f"- Started: {_when(summary.created_at)}",
        f"- Finished: {_when(summary.finished_at)}",
        "",
        "## Transcript",
        "",
    ]
    for turn in db.turns(session_id):
        if turn.kind == "scorecard":
            continue  # rendered once, below
        who = SPEAKER[turn.role]
        label = "" if turn.kind in ("answer", "question") else f" ({turn.kind})"
        body = turn.text.replace("\n", "\n> ") if turn.role == "candidate" else turn.text
        prefix = "> " if turn.role == "candidate" else ""
        lines += [f"**{who}{label}:**", "", f"{prefix}{body}", ""]
        if turn.message and turn.message.citations:
            lines += [f"  - Source: {c.label()}" for c in turn.message.citations]
            lines.append("")
    if card is not None:
        lines += [scorecard_text(card), ""]
    else:
        lines += ["_This session has no scorecard yet: it has not ended._", ""]
    return "\n".join(lines)


def session_json(db: SessionDB, session_id: str) -> str:
    """Everything: config, state, every turn with its verdicts and evidence, the scorecard."""
    return json.dumps(db.export(session_id), indent=2, ensure_ascii=False)

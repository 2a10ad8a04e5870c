"""`panelist interview` and `panelist sessions`: the interview loop in a terminal.

The loop reads one answer per line, so it runs the same typed by hand or
piped from a file (`printf '...\\nend\\n' | panelist interview`). Every turn
is committed before its reply is printed; at end of input the session is
left resumable with `--resume`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markdown import Markdown

from bot.cli import _services, _settings, app, console, err
from bot.interviewer.models import InterviewerMessage, Mode, Reply
from knowledge.schema import Difficulty, Step

if TYPE_CHECKING:
    from bot.interviewer import Interviewer
    from bot.sessions import SessionDB

sessions_app = typer.Typer(
    help="List, show, export and delete past sessions.", no_args_is_help=True
)
app.add_typer(sessions_app, name="sessions")

LABELS = {
    "prompt": "[bold magenta]Interviewer[/bold magenta]",
    "question": "[bold cyan]Question[/bold cyan]",
    "followup": "[bold cyan]Follow-up[/bold cyan]",
    "assumption": "[bold blue]Interviewer[/bold blue]",
    "feedback": "[bold green]Feedback[/bold green]",
    "model-answer": "[bold green]Model answer[/bold green]",
    "hint": "[bold yellow]Hint[/bold yellow]",
    "progress": "[bold]Progress[/bold]",
    "answer": "[bold magenta]Panelist[/bold magenta]",
    "notice": "[dim]Note[/dim]",
    "scorecard": "[bold]Scorecard[/bold]",
    "error": "[bold red]Not recorded[/bold red]",
}


def _interviewer() -> Interviewer:
    from bot.interviewer import build_interviewer

    return build_interviewer(_services(_settings()))


def _show(message: InterviewerMessage) -> None:
    console.print(LABELS.get(message.kind, message.kind))
    console.print(Markdown(message.text))
    for cite in message.citations:
        console.print(f"  [dim]source: {cite.label()}[/dim]")
    console.print()


def _show_reply(reply: Reply) -> None:
    for message in reply.messages:
        _show(message)


def _read_line(interactive: bool) -> str | None:
    try:
        if interactive:
            return console.input("[bold]you>[/bold] ")
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")
    except (EOFError, KeyboardInterrupt):
        return None


@app.command()
def interview(
    mode: Annotated[
        Mode, typer.Option(envvar="PANELIST_MODE", help="design, drill or ask.")
    ] = Mode.DESIGN,
    case: Annotated[
        str | None,
        typer.Option(envvar="PANELIST_CASE", help="Design case id (default: a random one)."),
    ] = None,
    topic: Annotated[
        str | None, typer.Option(envvar="PANELIST_TOPIC", help='Drill topic, e.g. "drift".')
    ] = None,
    step: Annotated[
        Step | None, typer.Option(envvar="PANELIST_STEP", help="Drill only this framework step.")
    ] = None,
    difficulty: Annotated[
        Difficulty | None, typer.Option(envvar="PANELIST_DIFFICULTY", help="easy, medium, hard.")
    ] = None,
    questions: Annotated[
        int, typer.Option(envvar="PANELIST_QUESTIONS", help="Drill: number of questions.")
    ] = 5,
    followups: Annotated[
        int, typer.Option(envvar="PANELIST_FOLLOWUPS", help="Follow-ups per question, at most.")
    ] = 2,
    time_cap: Annotated[
        int, typer.Option(envvar="PANELIST_TIME_CAP", help="End the interview after N minutes.")
    ] = 45,
    seed: Annotated[
        int | None, typer.Option(envvar="PANELIST_SEED", help="Seed for reproducible choices.")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(envvar="PANELIST_RESUME", help="Continue a session (id or unique prefix)."),
    ] = None,
) -> None:
    """Run a mock interview in the terminal: one answer per line (also from a pipe)."""
    from pydantic import ValidationError

    from bot.interviewer import InterviewConfig, InterviewError
    from bot.sessions import SessionError

    interviewer = _interviewer()
    try:
        if resume:
            session_id = interviewer.db.resolve(resume)
            state = interviewer.state(session_id)
            console.print(f"Resuming session [bold]{session_id}[/bold].\n")
            if state.finished:
                card = interviewer.scorecard(session_id)
                console.print("This session has already ended.")
                if card:
                    from bot.interviewer.render import scorecard_text

                    console.print(Markdown(scorecard_text(card)))
                return
            console.print(LABELS["question"])
            console.print(Markdown(state.last_prompt or "(nothing asked yet)"))
            console.print()
        else:
            config = InterviewConfig(
                mode=mode,
                case_id=case,
                topic=topic,
                step=step,
                difficulty=difficulty,
                questions=questions,
                max_followups=followups,
                time_cap_minutes=time_cap,
                seed=seed,
            )
            session_id, reply = interviewer.start(config)
            console.print(
                f"Session [bold]{session_id}[/bold] "
                f"(resume with `panelist interview --resume {session_id}`).\n"
            )
            _show_reply(reply)
    except (InterviewError, ValidationError, SessionError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    interactive = sys.stdin.isatty()
    while True:
        line = _read_line(interactive)
        if line is None:
            console.print(f"Session saved. Resume with `panelist interview --resume {session_id}`.")
            return
        if not line.strip():
            continue
        if not interactive:
            console.print(f"[bold]you>[/bold] {line}")
        reply = interviewer.respond(session_id, line)
        _show_reply(reply)
        if reply.done:
            return


@sessions_app.command("list")
def sessions_list(
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 50,
) -> None:
    """Past sessions, newest first."""
    from datetime import datetime

    from rich.table import Table

    from bot.sessions import SessionDB

    db = SessionDB(_settings().db_path)
    rows = db.list(limit=limit)
    if not rows:
        console.print("No sessions yet: start one with `panelist interview`.")
        return
    table = Table("id", "mode", "title", "started", "status", "score", "turns")
    for s in rows:
        started = datetime.fromtimestamp(s.created_at).strftime("%Y-%m-%d %H:%M")
        score = f"{s.overall:.1f}" if s.overall is not None else "—"
        table.add_row(
            s.id,
            s.mode.value,
            s.title,
            started,
            "ended" if s.finished else "open",
            score,
            str(s.n_turns),
        )
    console.print(table)


def _resolve(session: str) -> tuple[SessionDB, str]:
    from bot.sessions import SessionDB, SessionError

    db = SessionDB(_settings().db_path)
    try:
        return db, db.resolve(session)
    except SessionError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@sessions_app.command("show")
def sessions_show(session: Annotated[str, typer.Argument(help="Session id or prefix.")]) -> None:
    """The transcript and scorecard of a session."""
    from bot.export import session_markdown

    db, sid = _resolve(session)
    console.print(Markdown(session_markdown(db, sid)))


@sessions_app.command("export")
def sessions_export(
    session: Annotated[str, typer.Argument(help="Session id or prefix.")],
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export a session as Markdown (transcript + scorecard) or JSON (everything)."""
    from bot.export import session_json, session_markdown

    if fmt not in ("md", "json"):
        err.print(f"[red]Unknown format {fmt!r}[/red]: use md or json.")
        raise typer.Exit(2)
    db, sid = _resolve(session)
    text = session_json(db, sid) if fmt == "json" else session_markdown(db, sid)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"Wrote {out}")


@sessions_app.command("delete")
def sessions_delete(
    session: Annotated[str, typer.Argument(help="Session id or prefix.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a session with its turns and grades."""
    db, sid = _resolve(session)
    if not yes and not typer.confirm(f"Delete session {sid}?"):
        raise typer.Exit(1)
    db.delete(sid)
    console.print(f"Deleted session {sid}.")

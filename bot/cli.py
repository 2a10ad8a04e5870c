"""`panelist`: a thin Typer shell over the core. Every option has an environment variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

app = typer.Typer(
    name="panelist",
    help="Panelist: a mock interviewer for ML system design and MLOps interviews.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(
    help="Inspect, validate and (re)build the knowledge base.", no_args_is_help=True
)
app.add_typer(kb_app, name="kb")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: say which variable is wrong
        err.print(f"[red]Invalid configuration:[/red] {exc}")
        err.print("Fix the PANELIST_* environment variables or your .env file.")
        raise typer.Exit(2) from exc


@app.command()
def doctor() -> None:
    """Print the resolved configuration (secrets masked) and check every backend."""
    from bot.doctor import run_checks

    settings = _settings()
    table = Table(title="Configuration", show_header=False, box=None)
    for key, value in settings.masked().items():
        table.add_row(f"[bold]{key}[/bold]", value or "[dim](not set)[/dim]")
    console.print(table)
    console.print()
    failed = 0
    for check in run_checks(settings):
        if check.ok and not check.warning:
            mark = "[green]ok[/green]  "
        elif check.ok:
            mark = "[yellow]warn[/yellow]"
        else:
            mark = "[red]FAIL[/red]"
            failed += 1
        console.print(f"{mark} [bold]{check.name}[/bold]: {check.detail}")
        if check.fix and not (check.ok and not check.warning):
            console.print(f"      [dim]how to fix:[/dim] {check.fix}")
    if failed:
        console.print(f"\n[red]{failed} check(s) failed.[/red]")
        raise typer.Exit(1)
    console.print("\n[green]All checks passed.[/green]")


@app.command()
def ui(
    port: Annotated[
        int, typer.Option(envvar="PANELIST_UI_PORT", help="Port to serve the UI on.")
    ] = 8501,
    host: Annotated[
        str,
        typer.Option(
            envvar="PANELIST_UI_HOST", help="Address to bind (localhost only by default)."
        ),
    ] = "127.0.0.1",
) -> None:
    """Start the Streamlit UI."""
    app_path = Path(__file__).resolve().parents[1] / "ui" / "app.py"
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    console.print(f"Panelist is starting on [bold]http://{host}:{port}[/bold] (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(cmd, env=env))


# -- knowledge base ---------------------------------------------------------------------------


@kb_app.command("validate")
def kb_validate(
    corpus: Annotated[
        Path | None,
        typer.Option(envvar="PANELIST_CORPUS", help="Corpus directory (default: the shipped one)."),
    ] = None,
) -> None:
    """Validate every corpus file; report each error with file and line."""
    from knowledge.catalog import CORPUS_DIR, CorpusError, load_catalog

    try:
        catalog = load_catalog(corpus or CORPUS_DIR)
    except CorpusError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}")
        err.print(f"{len(exc.problems)} problem(s).")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]ok[/green]: {len(catalog.concepts)} concepts, {len(catalog.cases)} cases, "
        f"{catalog.rubric_point_count()} rubric points in {catalog.root}"
    )


def main() -> None:  # pragma: no cover - console entry point
    app()

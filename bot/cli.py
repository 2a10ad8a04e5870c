"""`panelist`: a thin Typer shell over the core. Every option has an environment variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services import Services
    from knowledge.ingest import Progress
    from knowledge.store import KnowledgeStore

T = TypeVar("T")

app = typer.Typer(
    name="panelist",
    help="Panelist: a mock interviewer for ML system design and MLOps interviews.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Measure the grader on labelled data.", no_args_is_help=True)
kb_app = typer.Typer(
    help="Inspect, validate and (re)build the knowledge base.", no_args_is_help=True
)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")

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


def _progress_bar(description: str):
    """A rich progress bar that reports (label, done, total) callbacks."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}"),
        console=err,
        transient=True,
    )
    task = bar.add_task(description, total=None, label="")

    def update(label: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, label=label)

    return bar, update


def _indexing(build: Callable[[Progress], T]) -> T:
    """Run `build` behind the indexing progress bar; an unusable store is a clear error."""
    from knowledge.store import StoreError

    bar, update = _progress_bar("indexing")
    try:
        with bar:
            return build(update)
    except StoreError as exc:
        err.print(f"[red]The knowledge store is not usable:[/red] {exc}")
        err.print("Run `panelist doctor` for details.")
        raise typer.Exit(1) from exc


def _ready_store(settings: Settings) -> KnowledgeStore:
    from knowledge.ingest import ensure_index

    ready = _indexing(lambda progress: ensure_index(settings, progress=progress))
    for message in ready.messages:
        err.print(f"[yellow]{message}[/yellow]")
    return ready.store


def _services(settings: Settings) -> Services:
    """The app's services, indexing with a progress bar on first use."""
    from bot.services import build_services

    services = _indexing(lambda progress: build_services(settings, progress=progress))
    for notice in services.notices:
        err.print(f"[yellow]{notice}[/yellow]")
    return services


@kb_app.command("build")
def kb_build(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the store and index everything again.")
    ] = False,
) -> None:
    """Index the shipped corpus (a no-op when it is already indexed)."""
    from knowledge.ingest import stats
    from knowledge.store import open_store

    settings = _settings()
    if rebuild:
        open_store(settings).reset()
        (settings.home / "sources.json").unlink(missing_ok=True)
    store = _ready_store(settings)
    summary = stats(settings, store)
    console.print(
        f"Knowledge base ready: {summary['concepts']} concepts, {summary['cases']} cases, "
        f"{summary['rubric_points']} rubric points, {summary['chunks']} passages."
    )


@kb_app.command("stats")
def kb_stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Counts of concepts, cases, rubric points, extracted items, chunks and sources."""
    from knowledge.ingest import stats

    settings = _settings()
    summary = stats(settings, _ready_store(settings))
    if as_json:
        print(json.dumps(summary))
        return
    table = Table(show_header=False, box=None)
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(table)


@kb_app.command("sources")
def kb_sources() -> None:
    """List the ingested sources."""
    from knowledge.ingest import read_manifest

    table = Table("source", "title", "chunks", "items")
    for record in read_manifest(_settings()).values():
        table.add_row(record.path, record.title, str(record.n_chunks), str(record.n_items))
    console.print(table)


@kb_app.command("remove")
def kb_remove(
    source: Annotated[str, typer.Argument(help="Path, title or source id of an ingested file.")],
) -> None:
    """Drop an ingested source and everything extracted from it."""
    from knowledge.ingest import remove_source

    settings = _settings()
    store = _ready_store(settings)
    try:
        removed = remove_source(settings, source, store=store)
    except (KeyError, ValueError) as exc:
        err.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Removed {source} ({removed} indexed rows).")


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
) -> None:
    """Search the question items and the passages, with citations."""
    from knowledge.retrieval import Retriever

    retriever = Retriever(_ready_store(_settings()))
    console.print("[bold]Questions[/bold]")
    for match in retriever.find_question(query, k=k):
        item = retriever.item(match.item_id)
        console.print(f"  {match.score:.3f}  [cyan]{item.id}[/cyan]  {item.question}")
    console.print("[bold]Passages[/bold]")
    for hit in retriever.search_passages(query, k=k):
        console.print(f"  {hit.score:.3f}  [cyan]{hit.citation.label()}[/cyan]")
        console.print(f"         {hit.citation.snippet}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (md, txt, html, pdf).")],
    max_mb: Annotated[
        float, typer.Option(envvar="PANELIST_MAX_UPLOAD_MB", help="Size limit per file in MB.")
    ] = 10.0,
) -> None:
    """Ingest your own notes: chunk them, extract Q&A items, index them for retrieval."""
    from knowledge.ingest import ingest_paths

    settings = _settings()
    store = _ready_store(settings)
    bar, update = _progress_bar("ingesting")
    with bar:
        report = ingest_paths(
            settings, paths, store=store, max_bytes=int(max_mb * 1024 * 1024), progress=update
        )
    for record in report.added + report.updated:
        console.print(
            f"[green]indexed[/green] {record.path}: {record.n_chunks} chunks, "
            f"{record.n_items} extracted questions"
        )
    for sid in report.unchanged:
        console.print(f"[dim]unchanged[/dim] {sid.removeprefix('file:')}")
    for failure in report.failed:
        err.print(f"[red]skipped[/red] {failure.path}: {failure.reason}")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='e.g. "explain concept drift"')],
) -> None:
    """Explain a concept from the knowledge base, with citations."""
    from bot.ask import AskError, explain
    from bot.llm import LLMError, build_chat_model
    from knowledge.retrieval import Retriever

    settings = _settings()
    retriever = Retriever(_ready_store(settings))
    try:
        model = build_chat_model(settings)
    except LLMError as exc:
        err.print(f"[yellow]{exc}[/yellow]")
        model = None
    try:
        result = explain(question, retriever, model)
    except AskError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if result.item:
        console.print(f"[bold]{result.item.question}[/bold]")
    console.print(result.answer)
    if result.fallback_reason:
        err.print(f"[yellow]Answered from the knowledge base: {result.fallback_reason}[/yellow]")
    console.print("\n[bold]Sources[/bold]")
    seen = set()
    for n, cite in enumerate(result.citations, 1):
        if cite.label() in seen:
            continue
        seen.add(cite.label())
        console.print(f"  [{n}] {cite.label()}")
        if cite.snippet:
            console.print(f"      [dim]{cite.snippet}[/dim]")


@eval_app.command("grading")
def eval_grading(
    dataset: Annotated[
        Path,
        typer.Option(envvar="PANELIST_EVAL_DATASET", help="JSONL dataset of labelled answers."),
    ] = Path("evals/datasets/grading.v1.jsonl"),
    grader: Annotated[
        str,
        typer.Option(envvar="PANELIST_EVAL_GRADER", help="embedded | llm | hybrid | keyword"),
    ] = "embedded",
    split: Annotated[
        str | None, typer.Option(envvar="PANELIST_EVAL_SPLIT", help="dev or test (default: all)")
    ] = None,
    out: Annotated[
        Path, typer.Option(envvar="PANELIST_EVAL_OUT", help="Directory for the run's files.")
    ] = Path("evals/runs/latest"),
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 1000,
) -> None:
    """Grade every labelled answer and write metrics.json, cases.jsonl and reports."""
    from bot.grading import Grader, make_grader
    from bot.llm import LLMError, build_chat_model
    from evals.dataset import CorpusPoints, DatasetError, load_cases
    from evals.harness import constant_baseline, predict, write_run
    from evals.metrics import Prediction

    if grader not in ("embedded", "llm", "hybrid", "keyword"):
        err.print(f"[red]Unknown grader {grader!r}[/red]: use embedded, llm, hybrid or keyword.")
        raise typer.Exit(2)
    settings = _settings()
    try:
        cases = load_cases(dataset, split)
        everything = load_cases(dataset)
    except (OSError, DatasetError) as exc:
        err.print(f"[red]Cannot read the dataset:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        model = build_chat_model(settings) if grader in ("llm", "hybrid") else None
        chosen = make_grader(grader, model)  # type: ignore[arg-type]
    except (LLMError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    def graded(name: str, g: Grader, corpus: CorpusPoints | None = None) -> list[Prediction]:
        bar, update = _progress_bar(f"grading ({name})")
        with bar:
            return predict(g, cases, lambda done, total: update("answers", done, total), corpus)

    preds = graded(chosen.name, chosen)
    dev = [c.gold.score for c in everything if c.split == "dev"] or [c.gold.score for c in cases]
    baselines = {"constant (dev mean)": constant_baseline(cases, round(sum(dev) / len(dev), 2))}
    if grader != "keyword":
        # Overlap with each point's own words, as its name says: the corpus's short cue terms
        # are rarer in answers and would make a weaker floor.
        baselines["keyword overlap"] = graded("keyword", make_grader("keyword"), corpus={})
    metrics = write_run(
        out,
        preds,
        chosen.name,
        dataset=dataset,
        split=split,
        baselines=baselines,
        bootstrap=bootstrap,
    )
    from evals.report import markdown_table

    console.print(markdown_table(metrics))
    console.print(f"Wrote {out}/metrics.json, cases.jsonl, report.md, report.html")


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run directory.")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run directory.")],
) -> None:
    """Paired differences between two grading runs (B minus A)."""
    from evals.harness import compare_runs

    try:
        result = compare_runs(run_a, run_b)
    except (OSError, ValueError, KeyError) as exc:
        err.print(f"[red]Cannot compare:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table("metric", str(result["a"]["grader"]), str(result["b"]["grader"]), "delta")  # type: ignore[index]
    for name, row in result["metrics"].items():  # type: ignore[attr-defined]
        table.add_row(name, f"{row['a']:.3f}", f"{row['b']:.3f}", f"{row['delta']:+.3f}")
    console.print(table)
    lo, hi = (float(x) for x in result["abs_error_delta_ci95"])  # type: ignore[attr-defined]
    console.print(
        f"{result['paired_cases']} paired cases; mean change in |score error| "
        f"{result['abs_error_delta_mean']:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}); "
        f"B better on {result['b_better']}, worse on {result['b_worse']} cases."
    )


@eval_app.command("interviewer")
def eval_interviewer(
    out: Annotated[
        Path, typer.Option(envvar="PANELIST_EVAL_OUT", help="Directory for metrics and report.")
    ] = Path("evals/runs/interviewer"),
    cases: Annotated[
        int | None, typer.Option(help="Only the first N design cases (default: all).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the simulated candidates.")] = 7,
) -> None:
    """Simulated candidates drive whole interviews; report follow-up aim, leaks, repeats."""
    import tempfile

    from bot.interviewer import build_interviewer
    from bot.sessions import SessionDB
    from evals import simulate

    # Simulated sessions go to a throwaway database, never the candidate's own history.
    scratch = Path(tempfile.mkdtemp(prefix="panelist-sim-"))
    interviewer = build_interviewer(_services(_settings()), db=SessionDB(scratch / "sim.db"))
    case_ids = [c for c, _, _ in interviewer.cases()]
    bar, update = _progress_bar("simulating")
    with bar:
        metrics, _ = simulate.run(
            interviewer,
            cases=case_ids[:cases] if cases else case_ids,
            seed=seed,
            progress=lambda done, total: update("sessions", done, total),
        )
    simulate.write(out, metrics)
    console.print((out / "report.md").read_text())
    console.print(f"Wrote {out}/metrics.json and report.md")


def main() -> None:  # pragma: no cover - console entry point
    app()


# The interview and session commands live in their own module; importing it registers them.
from bot import cli_interview  # noqa: E402, F401

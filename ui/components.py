"""Shared rendering helpers for the Streamlit pages. No business logic lives here.

Every function takes a value the core returned (a `Grade`, a `Progress`, a
`Scorecard`) and draws it; none of them decides anything about an interview.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st

from bot.llm import NoModel
from bot.services import Services, build_services
from bot.settings import LLMBackend, Settings

if TYPE_CHECKING:
    from bot.grading.models import Grade
    from bot.interviewer.models import InterviewerMessage, Progress, Scorecard, StepProgress
    from knowledge.models import Citation

# Material symbols ship with Streamlit, so they render on machines without an emoji font.
STATUS_ICON = {
    "done": ":material/check_circle:",
    "current": ":material/play_circle:",
    "pending": ":material/radio_button_unchecked:",
    "skipped": ":material/skip_next:",
}
KIND_AVATAR = {
    "feedback": ":material/grading:",
    "hint": ":material/lightbulb:",
    "error": ":material/warning:",
    "assumption": ":material/info:",
}
PANEL_CSS = """<style>
[data-testid="stColumn"]:has(.st-key-live-panel) {
  position: sticky; top: 4rem; align-self: flex-start;
  max-height: calc(100vh - 9rem); overflow-y: auto;
}
.panelist-answer mark { background: #fde68a; padding: 0 2px; border-radius: 3px; }
details.panelist-cite summary { cursor: pointer; font-size: 0.85em; opacity: 0.75; }
ul.panelist-points { list-style: none; padding-left: 0; margin-top: 0.3em; }
ul.panelist-points li { margin-bottom: 0.55em; }
</style>"""


@st.cache_resource(show_spinner="Loading the knowledge base…")
def services() -> Services:
    return build_services(Settings())


@st.cache_resource(show_spinner="Preparing the interviewer…")
def interviewer() -> Any:
    """One interviewer per server process; sessions live in SQLite, not in it."""
    from bot.interviewer import build_interviewer

    return build_interviewer(services())


def llm_configured(svc: Services) -> bool:
    return not isinstance(svc.model, NoModel)


@st.cache_data(ttl=60, show_spinner=False)
def _llm_problems(_settings: Settings, key: str) -> list[str]:
    """Doctor's LLM checks, cached for a minute so a page rerun never waits on the network."""
    from bot.doctor import run_checks

    names = ("llm", "gguf", "llama")
    return [
        f"{c.detail}. {c.fix}".strip()
        for c in run_checks(_settings)
        if not c.ok and c.name.startswith(names)
    ]


def status_line(svc: Services) -> None:
    """Which LLM and grader are in use, and a friendly note when the endpoint is down."""
    judge = svc.settings.resolved_judge().value
    st.caption(f"LLM: **{svc.model.name}** · grader: **{judge}** · store: {svc.store.location}")
    for notice in svc.notices:
        st.info(notice)
    if svc.settings.resolved_llm() is not LLMBackend.NONE:
        key = f"{svc.settings.resolved_llm()}|{svc.settings.base_url}|{svc.settings.model}"
        for problem in _llm_problems(svc.settings, key):
            st.warning(
                f"The language model is not available right now: {problem} "
                "The interview goes on with the embedded grader and authored questions.",
                icon=":material/cloud_off:",
            )


# -- text ---------------------------------------------------------------------------------------
def word_chunks(text: str, delay_s: float = 0.008) -> Iterator[str]:
    """The text a word at a time, for `st.write_stream` when an LLM is configured."""
    for piece in re.split(r"(?<=\s)", text):
        if piece:
            yield piece
            if delay_s:
                time.sleep(delay_s)


def highlight(answer: str, evidence: Sequence[str]) -> str:
    """The answer as HTML with every evidence quote wrapped in <mark>; all text is escaped."""
    spans: list[tuple[int, int]] = []
    lowered = answer.lower()
    for quote in evidence:
        quote = quote.strip()
        if not quote:
            continue
        start = answer.find(quote)
        if start < 0:
            start = lowered.find(quote.lower())
        if start >= 0:
            spans.append((start, start + len(quote)))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(html.escape(answer[pos:start]))
        out.append(f"<mark>{html.escape(answer[start:end])}</mark>")
        pos = end
    out.append(html.escape(answer[pos:]))
    return "".join(out)


def citation_html(citation: Citation) -> str:
    """A citation that opens its passage in place (a <details> element), escaped."""
    label = html.escape(citation.label())
    body = html.escape(citation.snippet or "(no passage text stored)")
    link = (
        f' · <a href="{html.escape(citation.url, quote=True)}" target="_blank">open source</a>'
        if citation.url
        else ""
    )
    return (
        f'<details class="panelist-cite"><summary>Source: {label}</summary>'
        f'<div style="font-size:0.9em;opacity:0.85;padding:0.3em 0 0.3em 1em;'
        f'border-left:3px solid #ccc">{body}{link}</div></details>'
    )


# -- grades -------------------------------------------------------------------------------------
def grade_label(grade: Grade) -> str:
    return f"Feedback · {grade.score_0_4:.1f}/4 · graded by {grade.grader}"


def _credited_answers(answers: Sequence[str], evidence: Sequence[str]) -> list[str]:
    """The answers that earned credit (a closing grade spans them all), else the last one."""
    quotes = [q.strip().lower() for q in evidence if q.strip()]
    hits = [a for a in answers if any(q in a.lower() for q in quotes)]
    return hits or list(answers[-1:])


def render_grade(grade: Grade, answers: Sequence[str] = (), *, expanded: bool = False) -> None:
    """Credited points with their evidence marked in the answer; missed points with citations."""
    fb = grade.feedback
    with st.expander(grade_label(grade), expanded=expanded):
        if grade.fallback_reason:
            st.warning(f"Graded by the embedded grader: {grade.fallback_reason}")
        for warning in fb.warnings:
            st.warning(warning)
        evidence = [c.evidence for c in fb.credited]
        shown = _credited_answers(answers, evidence)
        if shown:
            st.markdown("**Your answer**, with the credited words highlighted")
            for answer in shown:
                st.markdown(
                    f'<div class="panelist-answer" style="white-space:pre-wrap;line-height:1.6;'
                    f'margin-bottom:0.6em">{highlight(answer, evidence)}</div>',
                    unsafe_allow_html=True,
                )
        if fb.credited:
            items = "".join(
                f"<li>{'✔' if c.status == 'covered' else '◐ partly:'} {html.escape(c.point)}"
                f"<br><small>“{html.escape(c.evidence)}”</small></li>"
                for c in fb.credited
            )
            st.markdown(
                f"**Credited ({len(fb.credited)})**<ul class='panelist-points'>{items}</ul>",
                unsafe_allow_html=True,
            )
        if fb.missed:
            items = "".join(
                f"<li>✘ {html.escape(m.point)} <small>(weight {m.weight:g})</small>"
                + (
                    f"<br><small>You said the opposite: “{html.escape(m.contradicted_by)}”</small>"
                    if m.contradicted_by
                    else ""
                )
                + f"{citation_html(m.citation) if m.citation else ''}</li>"
                for m in fb.missed
            )
            st.markdown(
                f"**Missed ({len(fb.missed)})**<ul class='panelist-points'>{items}</ul>",
                unsafe_allow_html=True,
            )
        elif fb.disputed:
            items = "".join(f"<li>✘ “{html.escape(q)}”</li>" for q in fb.disputed)
            st.markdown(
                f"**Does not hold ({len(fb.disputed)})**<ul class='panelist-points'>{items}</ul>",
                unsafe_allow_html=True,
            )
        elif not fb.credited:
            st.caption("Nothing in this answer matched a rubric point yet.")


def render_message(
    message: InterviewerMessage,
    answers: Sequence[str] = (),
    *,
    fresh: bool = False,
    stream: bool = False,
) -> None:
    """One interviewer message in a chat bubble; feedback also gets its grade expander.

    A graded message shows the grade's own summary in the bubble: the expander
    below already lists every credited and missed point, so the long Markdown
    version (written for the terminal) would only repeat it.
    """
    grade = message.grade
    text = message.text
    if grade is not None:
        text = f"**{grade.score_0_4:.1f} / 4** — {grade.feedback.summary}"
        if message.open_points:
            text += f" {message.open_points} point(s) still open on this question."
    with st.chat_message("assistant", avatar=KIND_AVATAR.get(message.kind)):
        if message.step is not None and message.kind in ("question", "prompt"):
            st.caption(f"Step {message.step.number} · {message.step.label}")
        if message.kind == "error":
            st.warning(text)
        elif fresh and stream and text:
            st.write_stream(word_chunks(text))
        else:
            st.markdown(text)
        if grade is not None:
            render_grade(grade, answers, expanded=fresh)
        if message.citations and message.kind in ("answer", "model-answer", "hint"):
            st.markdown(
                "".join(citation_html(c) for c in message.citations), unsafe_allow_html=True
            )


# -- progress -----------------------------------------------------------------------------------
def _minutes(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def step_label(sp: StepProgress) -> str:
    score = f" · {sp.score:.1f}/4" if sp.score is not None else ""
    return f"{STATUS_ICON[sp.status]} {sp.step.number}. {sp.label} — {sp.coverage:.0%}{score}"


def render_progress(progress: Progress) -> None:
    """The live panel: per-step coverage bars, the current step and its budget, hints used."""
    if progress.steps:
        current = next((s for s in progress.steps if s.status == "current"), None)
        if current is not None:
            st.markdown(
                f"**Now: {current.step.number}. {current.label}**  \n"
                f":material/timer: {_minutes(current.elapsed_s)} of a "
                f"{current.budget_minutes}-minute budget"
            )
        elif progress.finished:
            st.markdown("**Interview finished**")
        for sp in progress.steps:
            st.progress(min(max(sp.coverage, 0.0), 1.0), text=step_label(sp))
    elif progress.questions_total:
        st.progress(
            min(progress.questions_asked / progress.questions_total, 1.0),
            text=f"Question {progress.questions_asked} of {progress.questions_total}",
        )
    cap = f" of {_minutes(progress.time_cap_s)}" if progress.time_cap_s else ""
    st.caption(f"Hints used: **{progress.hints}** · time: **{_minutes(progress.elapsed_s)}**{cap}")


# -- scorecard ----------------------------------------------------------------------------------
def scorecard_chart(card: Scorecard) -> alt.LayerChart:
    """Per-step scores as horizontal bars on the fixed 0-4 scale, labelled with the score."""
    rows = [
        {
            "step": (f"{s.step.number}. " if s.step else "") + s.label,
            "score": round(s.score, 2),
            "coverage": f"{s.coverage:.0%}",
            "skipped": "skipped" if s.skipped else "",
        }
        for s in card.steps
    ]
    data = pd.DataFrame(rows, columns=["step", "score", "coverage", "skipped"])
    order = [r["step"] for r in rows]
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X(
            "score:Q",
            scale=alt.Scale(domain=[0, 4]),
            axis=alt.Axis(values=[0, 1, 2, 3, 4]),
            title="score (0-4)",
        ),
        tooltip=["step", "score", "coverage", "skipped"],
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height=alt.RelativeBandSize(0.7)).encode(
        color=alt.Color(
            "score:Q", scale=alt.Scale(domain=[0, 4], scheme="redyellowgreen"), legend=None
        )
    )
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("score:Q", format=".1f"))
    return (bars + labels).properties(height=alt.Step(32))


def _points(title: str, points: Sequence[Any]) -> None:
    st.markdown(f"**{title}**")
    if not points:
        st.caption("—")
    for p in points:
        where = f" <small>({p.step.label})</small>" if p.step else ""
        quote = f"<br><small>“{html.escape(p.evidence)}”</small>" if p.evidence else ""
        cite = citation_html(p.citation) if p.citation and not p.evidence else ""
        st.markdown(f"- {html.escape(p.text)}{where}{quote}{cite}", unsafe_allow_html=True)


def render_scorecard(card: Scorecard) -> None:
    """Per-step scores as a chart, strongest and weakest points, what to study next."""
    st.subheader(f"Scorecard · {card.title}")
    cols = st.columns(3)
    cols[0].metric("Overall", f"{card.overall:.1f} / 4")
    cols[1].metric("Hints used", card.hints)
    cols[2].metric("Time", _minutes(card.elapsed_s))
    if card.end_reason:
        st.caption(f"Ended: {card.end_reason} " + " ".join(card.notes))
    if card.steps:
        st.altair_chart(scorecard_chart(card), width="stretch")
    left, right = st.columns(2)
    with left:
        _points("Strongest points", card.strongest)
    with right:
        _points("Weakest points", card.weakest)
    if card.study_next:
        st.markdown("**What to study next**")
        for study in card.study_next:
            st.markdown(f"- **{study.question}** — {study.reason}")

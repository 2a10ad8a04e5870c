"""The interview room: chat with the interviewer beside a live coverage panel.

The page keeps only the session id in `st.session_state`; the transcript,
progress and scorecard are read back from the core on every rerun, so a
resumed session (or a second tab) shows exactly what SQLite holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from bot.export import session_json, session_markdown
from bot.interviewer import InterviewConfig, InterviewError, Mode
from bot.sessions import SessionError
from knowledge.schema import Difficulty, Step
from ui.components import (
    PANEL_CSS,
    interviewer,
    llm_configured,
    render_message,
    render_progress,
    render_scorecard,
    services,
    status_line,
)

SID = "interview_sid"
PENDING = "interview_pending"
COMMANDS = [
    ("Hint", ":material/lightbulb:", "hint"),
    ("Skip step", ":material/skip_next:", "skip"),
    ("Repeat", ":material/replay:", "repeat"),
    ("Score so far", ":material/leaderboard:", "score"),
    ("End", ":material/flag:", "end"),
]

svc = services()
iv = interviewer()
db = iv.db


def _start(config: InterviewConfig) -> None:
    sid, reply = iv.start(config)
    st.session_state[SID] = sid
    st.session_state[PENDING] = None
    st.session_state["interview_fresh_from"] = 0
    st.session_state["interview_rejected"] = [] if reply.recorded else reply.messages


def _queue(text: str) -> None:
    st.session_state[PENDING] = text


def _exports(sid: str) -> tuple[str, str]:
    """The Markdown and JSON exports, as the core writes them."""
    return session_markdown(db, sid), session_json(db, sid)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%d %b %H:%M")


# -- sidebar: start or resume -------------------------------------------------------------------
with st.sidebar:
    st.header("New interview")
    mode = st.radio(
        "Mode",
        [Mode.DESIGN, Mode.DRILL, Mode.ASK],
        format_func=lambda m: {
            "design": "Design interview",
            "drill": "Concept drill",
            "ask": "Ask",
        }[m.value],
        horizontal=True,
        key="new_mode",
    )
    if mode is Mode.DESIGN:
        level = st.selectbox(
            "Difficulty",
            [None, *Difficulty],
            format_func=lambda d: "any" if d is None else d.value,
            key="new_difficulty",
        )
        cases: list[tuple[str, str, Any]] = [
            c for c in iv.cases() if level is None or str(c[2]) == level.value
        ]
        labels = {cid: f"{title} ({diff})" for cid, title, diff in cases}
        case_id = st.selectbox(
            "Case",
            [None, *labels],
            format_func=lambda c: "Surprise me (random case)" if c is None else labels[c],
            key="new_case",
        )
        if st.button("Start interview", type="primary", width="stretch", key="start_design"):
            _start(InterviewConfig(mode=Mode.DESIGN, case_id=case_id, difficulty=level))
    elif mode is Mode.DRILL:
        topics = iv.topics()
        topic = st.selectbox(
            "Topic",
            [None, *topics],
            format_func=lambda t: "any topic" if t is None else t,
            key="new_topic",
        )
        step = st.selectbox(
            "Framework step",
            [None, *Step],
            format_func=lambda s: "any step" if s is None else f"{s.number}. {s.label}",
            key="new_step",
        )
        n = st.slider("Questions", 1, 15, 5, key="new_questions")
        if st.button("Start drill", type="primary", width="stretch", key="start_drill"):
            _start(InterviewConfig(mode=Mode.DRILL, topic=topic, step=step, questions=n))
    elif st.button("Start asking", type="primary", width="stretch", key="start_ask"):
        _start(InterviewConfig(mode=Mode.ASK))

    past = db.list(limit=50)
    if past:
        st.header("Resume")
        by_id = {s.id: s for s in past}
        chosen = st.selectbox(
            "Past sessions",
            list(by_id),
            format_func=lambda i: (
                f"{by_id[i].title} · {_when(by_id[i].created_at)}"
                + ("" if by_id[i].finished else " · in progress")
            ),
            key="resume_choice",
        )
        if st.button("Open session", width="stretch", key="open_session"):
            st.session_state[SID] = chosen
            st.session_state[PENDING] = None
            st.session_state["interview_rejected"] = []

# -- the candidate's input, handled before anything is drawn ----------------------------------
# The URL carries the session id, so a reload (or a bookmark) reopens the same interview.
if SID not in st.session_state and st.query_params.get("session"):
    st.session_state[SID] = st.query_params["session"]
sid: str | None = st.session_state.get(SID)
if sid and st.query_params.get("session") != sid:
    st.query_params["session"] = sid
try:
    summary = db.summary(sid) if sid else None
except SessionError:
    summary = None
typed = st.chat_input(
    "Your answer (or: hint, skip, repeat, score, end)" if summary else "Start a session first",
    disabled=summary is None or summary.finished,
    key="interview_input",
)
text = typed if typed is not None else st.session_state.get(PENDING)
st.session_state[PENDING] = None
fresh_from: int | None = None
if sid and summary and text is not None and not summary.finished:
    fresh_from = len(iv.history(sid))
    with st.spinner("The interviewer is thinking…"):
        try:
            reply = iv.respond(sid, text)
        except InterviewError as exc:
            reply = None
            st.error(str(exc))
    if reply is not None:
        st.session_state["interview_rejected"] = [] if reply.recorded else reply.messages
        if reply.done:
            st.rerun()  # draw the finished session from the top: input closed, scorecard shown

# -- the page -----------------------------------------------------------------------------------
st.title("Interview room")
status_line(svc)

if not sid or summary is None:
    st.markdown(
        "Pick a **design interview**, a **concept drill** or **ask** mode in the sidebar. "
        "A design interview walks the seven steps of the ML system design framework; every "
        "answer is graded point by point, with the words that earned credit highlighted."
    )
    if st.button(
        "Start a design interview now",
        icon=":material/play_arrow:",
        type="primary",
        key="quick_start",
    ):
        _start(InterviewConfig(mode=Mode.DESIGN))
        st.rerun()
    st.stop()

chat, panel = st.columns([2.4, 1], gap="large")
stream = llm_configured(svc)
with chat:
    answers: list[str] = []  # the candidate's answers to the current question
    for n, turn in enumerate(iv.history(sid)):
        if turn.role == "candidate":
            answers.append(turn.text)
            with st.chat_message("user"):
                st.markdown(turn.text)
        elif turn.message is not None and turn.message.kind != "scorecard":
            if turn.message.kind == "question":
                answers = []
            render_message(
                turn.message,
                answers,
                fresh=fresh_from is not None and n >= fresh_from,
                stream=stream,
            )
    for message in st.session_state.get("interview_rejected", []):
        st.warning(message.text)

    card = db.scorecard(sid) if summary.finished else None
    if card is not None:
        st.divider()
        render_scorecard(card)
        markdown, as_json = _exports(sid)
        left, right = st.columns(2)
        left.download_button(
            "Export Markdown",
            markdown,
            icon=":material/download:",
            file_name=f"panelist-{sid}.md",
            mime="text/markdown",
            width="stretch",
        )
        right.download_button(
            "Export JSON",
            as_json,
            icon=":material/download:",
            file_name=f"panelist-{sid}.json",
            mime="application/json",
            width="stretch",
        )

with panel, st.container(key="live-panel"):
    st.markdown(PANEL_CSS, unsafe_allow_html=True)
    st.markdown(f"##### {summary.title}")
    st.caption(f"{summary.mode.value} · started {_when(summary.created_at)} · id `{sid}`")
    render_progress(iv.progress(sid))
    if not summary.finished:
        cols = st.columns(2)
        for n, (label, icon, command) in enumerate(COMMANDS):
            cols[n % 2].button(
                label,
                icon=icon,
                key=f"cmd-{command}",
                on_click=_queue,
                args=(command,),
                width="stretch",
            )

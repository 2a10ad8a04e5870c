"""Past sessions, scores over time, weakest topics and the spaced-repetition queue."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from knowledge.schema import Step
from ui.components import interviewer, services, status_line

svc = services()
db = interviewer().db

st.title("History")
status_line(svc)

sessions = db.list(limit=500)
if not sessions:
    st.info("No sessions yet. Start one on the Interview page; every answer is saved here.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "started": datetime.fromtimestamp(s.created_at),
            "title": s.title,
            "mode": s.mode.value,
            "score": s.overall,
            "turns": s.n_turns,
            "finished": s.finished,
            "id": s.id,
        }
        for s in sessions
    ]
)
overview, topics, due = st.tabs(["Sessions", "Weakest topics", "Due today"])

with overview:
    cols = st.columns(3)
    scored = table.dropna(subset=["score"])
    cols[0].metric("Sessions", len(table))
    cols[1].metric("Finished", int(table["finished"].sum()))
    cols[2].metric("Average score", f"{scored['score'].mean():.1f} / 4" if len(scored) else "—")
    if len(scored):
        st.markdown("**Scores over time**")
        chart = (
            alt.Chart(scored)
            .mark_line(point=True)
            .encode(
                x=alt.X("started:T", title=None),
                y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 4]), title="overall (0-4)"),
                color=alt.Color("mode:N", title="mode"),
                tooltip=["title", "mode", "score", "started"],
            )
            .properties(height=240)
        )
        st.altair_chart(chart, width="stretch")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "score": st.column_config.ProgressColumn(
                "score", min_value=0, max_value=4, format="%.1f"
            ),
            "started": st.column_config.DatetimeColumn("started", format="D MMM YYYY, HH:mm"),
        },
    )
    by_id = {s.id: s for s in sessions}
    chosen = st.selectbox(
        "Session", list(by_id), format_func=lambda i: f"{by_id[i].title} · {i}", key="history_pick"
    )
    left, right = st.columns(2)
    if left.button("Open in the interview room", width="stretch"):
        st.session_state["interview_sid"] = chosen
        st.switch_page("pages/interview.py")
    if right.button("Delete this session", width="stretch"):
        db.delete(chosen)
        st.rerun()

with topics:
    per_step = db.score_summary("step")
    if not per_step:
        st.caption("No graded answers yet.")
    else:
        labels = {s.value: f"{s.number}. {s.label}" for s in Step}
        steps = pd.DataFrame(
            {"step": labels.get(row.key or "", "concept drill"), "score": row.mean}
            for row in per_step
        )
        st.markdown("**Average score per framework step**")
        st.altair_chart(
            alt.Chart(steps)
            .mark_bar()
            .encode(
                x=alt.X("score:Q", scale=alt.Scale(domain=[0, 4]), title="mean score (0-4)"),
                y=alt.Y("step:N", sort="x", title=None),
                color=alt.Color(
                    "score:Q", scale=alt.Scale(domain=[0, 4], scheme="redyellowgreen"), legend=None
                ),
            )
            .properties(height=max(60, 34 * len(steps))),
            width="stretch",
        )
        st.markdown("**Weakest questions**")
        for row in db.score_summary("item_id")[:8]:
            item = svc.store.item(row.key) if row.key else None
            name = item.question if item else row.key
            st.markdown(f"- {name} — **{row.mean:.1f}/4** over {row.answers} answer(s)")

with due:
    queue = db.due()
    st.caption(
        f"{len(queue)} item(s) due for review today (spaced repetition: weak answers come back "
        "sooner)."
    )
    for review in queue:
        item = svc.store.item(review.item_id)
        name = item.question if item else review.item_id
        when = datetime.fromtimestamp(review.due_at).strftime("%d %b")
        st.markdown(
            f"- **{name}** · due {when} · last quality {review.last_quality}/5 · "
            f"next interval {review.interval_days:g} day(s)"
        )
    upcoming = [r for r in db.reviews() if r not in queue][:10]
    if upcoming:
        with st.expander(f"Coming up ({len(upcoming)})"):
            for review in upcoming:
                item = svc.store.item(review.item_id)
                name = item.question if item else review.item_id
                when = datetime.fromtimestamp(review.due_at).strftime("%d %b")
                st.markdown(f"- {name} · due {when}")

"""The Streamlit pages render the real core (embedded default) under AppTest.

Rendering helpers are checked on their own first (HTML escaping, evidence
marks); then every page and the main interview flows run through AppTest
against the shipped corpus, the embedded grader and a real SQLite file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, free_port

UI = REPO / "ui"
CASE = "video-recommendation"
REQUIREMENTS_ANSWER = (
    "First I'd clarify the business objective: increase user engagement, measured as watch "
    "time, not just clicks. What is the scale: how many daily active users and how many videos "
    "in the catalog? I'd ask about latency, since recommendations must be served in under 200 "
    "ms when the home page loads, and what data we have: watch history, likes, searches and "
    "video metadata. I'd also ask whether we need to handle new users and new videos (cold "
    "start) and whether freshness matters."
)


# -- pure rendering helpers -----------------------------------------------------------------------
def test_highlight_marks_evidence_and_escapes_everything() -> None:
    from ui.components import highlight

    answer = "Use <b>shadow</b> deployment & canary releases, then A/B test."
    out = highlight(answer, ["shadow</b> deployment", "canary releases", "not in the answer"])
    assert out == (
        "Use &lt;b&gt;<mark>shadow&lt;/b&gt; deployment</mark> &amp; "
        "<mark>canary releases</mark>, then A/B test."
    )
    assert "<b>" not in out


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        pytest.param(["a b c", "b c d"], "<mark>a b c d</mark> e", id="overlapping-merge"),
        pytest.param(["A B"], "<mark>a b</mark> c d e", id="case-insensitive-fallback"),
        pytest.param(["", "  "], "a b c d e", id="blank-quotes-ignored"),
        pytest.param(["e", "a"], "<mark>a</mark> b c d <mark>e</mark>", id="out-of-order"),
    ],
)
def test_highlight_cases(evidence: list[str], expected: str) -> None:
    from ui.components import highlight

    assert highlight("a b c d e", evidence) == expected


def test_word_chunks_rebuild_the_text() -> None:
    from ui.components import word_chunks

    text = "A **bold** claim,\n\nthen a list:\n- one\n- two"
    chunks = list(word_chunks(text, delay_s=0))
    assert "".join(chunks) == text
    assert len(chunks) > 5


def test_citation_html_escapes_the_passage() -> None:
    from knowledge.models import Citation
    from ui.components import citation_html

    cite = Citation(source_id="s", title="Notes <x>", heading="Drift", snippet="<script>1</script>")
    out = citation_html(cite)
    assert "<script>" not in out
    assert "Notes &lt;x&gt; — Drift" in out
    assert out.startswith("<details")


def _grade_with_a_stated_error() -> None:
    """An AppTest script: one grade whose answer states the opposite of a point."""
    from bot.grading.models import PointVerdict, Status
    from bot.grading.scoring import assemble_grade
    from knowledge.models import Citation, RubricPoint
    from ui.components import render_grade

    cite = Citation(source_id="notes", title="Notes")
    points = [
        RubricPoint(id="p1", text="Concept drift is a change in P(y|x).", weight=2.0, source=cite),
        RubricPoint(id="p2", text="Retrain on recent labelled data.", weight=1.0, source=cite),
    ]
    wrong = "Concept drift is <just> a change in the inputs."
    verdicts = [
        PointVerdict(
            point_id="p1", status=Status.MISSED, evidence=wrong, confidence=0.9, contradicted=True
        ),
        PointVerdict(point_id="p2", status=Status.MISSED, confidence=0.9),
    ]
    grade = assemble_grade(verdicts, points, "embedded")
    render_grade(grade, [wrong], expanded=True)
    hidden = grade.model_copy(update={"feedback": grade.feedback.model_copy(update={"missed": []})})
    render_grade(hidden, [wrong], expanded=True)


def test_grade_shows_the_words_that_do_not_hold() -> None:
    at = AppTest.from_function(_grade_with_a_stated_error).run()
    assert not at.exception, at.exception
    shown = "\n".join(m.value for m in at.markdown)
    # the closing grade names the point beside the quote; the open one shows only the quote
    assert "You said the opposite: “Concept drift is &lt;just&gt; a change in the inputs.”" in shown
    assert "**Does not hold (1)**" in shown


# -- AppTest over the real core -------------------------------------------------------------------
@pytest.fixture
def fresh_services(indexed_home: Path) -> Iterator[Path]:
    """Each test builds its own services over a private copy of the indexed data directory."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield indexed_home
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def svc(fresh_services: Path) -> Any:
    from bot.services import build_services

    return build_services()


@pytest.fixture
def core(svc: Any) -> Any:
    """A second interviewer over the same data directory, to set up or inspect sessions."""
    from bot.interviewer import build_interviewer

    return build_interviewer(svc)


def page(name: str) -> AppTest:
    return AppTest.from_file(str(UI / "pages" / f"{name}.py"), default_timeout=120)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def progress_bars(at: AppTest) -> list[Any]:
    return list(at.get("progress"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def start_design(at: AppTest, case: str = CASE) -> AppTest:
    at.run()
    at.selectbox(key="new_case").set_value(case)
    at.button(key="start_design").click().run()
    assert not at.exception, at.exception
    return at


def chat_roles(at: AppTest) -> list[str]:
    return [c.proto.name for c in at.get("chat_message")]  # type: ignore[attr-defined]


pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("fresh_services")
def test_app_entry_point_opens_the_interview_page() -> None:
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Interview room"
    assert "grader: **embedded**" in at.caption[0].value
    assert at.chat_input[0].disabled  # nothing to answer before a session starts


@pytest.mark.usefixtures("fresh_services")
def test_ask_answers_with_sources() -> None:
    at = page("ask").run()
    at.chat_input[0].set_value("explain concept drift").run()
    assert not at.exception
    assert "What is concept drift" in texts(at)
    assert "P(y|x)" in texts(at)
    assert at.expander[0].label == "Sources"


@pytest.mark.usefixtures("core")
def test_design_interview_start_answer_feedback_hint_end_scorecard() -> None:
    at = start_design(page("interview"))
    assert at.title[0].value == "Interview room"
    assert chat_roles(at) and set(chat_roles(at)) == {"assistant"}
    bars = progress_bars(at)
    assert len(bars) == 7
    assert bars[0].text.startswith(":material/play_circle: 1. Clarifying requirements")
    assert all(b.value == 0 for b in bars)
    assert "budget" in texts(at)

    at.chat_input[0].set_value(REQUIREMENTS_ANSWER).run()
    assert not at.exception, at.exception
    assert "user" in chat_roles(at)
    feedback = [e for e in at.expander if e.label.startswith("Feedback ·")]
    assert feedback, [e.label for e in at.expander]
    marked = [m.value for m in at.markdown if "<mark>" in m.value]
    assert marked, "credited evidence should be highlighted in the answer"
    assert "watch time" in texts(at)
    assert progress_bars(at)[0].value > 0  # the coverage panel moved

    assert "Hints used: **0**" in captions(at)
    at.button(key="cmd-hint").click().run()
    assert not at.exception
    assert "Hints used: **1**" in captions(at)

    at.button(key="cmd-end").click().run()
    assert not at.exception, at.exception
    assert any(h.value.startswith("Scorecard") for h in at.subheader)
    assert metric(at, "Overall").endswith("/ 4")
    assert at.get("vega_lite_chart"), "per-step scores as a chart"
    downloads = list(at.get("download_button"))
    assert len(downloads) == 2
    assert at.chat_input[0].disabled
    assert not [b for b in at.button if b.key and b.key.startswith("cmd-")]


def test_skip_moves_the_panel_to_the_next_step(core: Any) -> None:
    at = start_design(page("interview"))
    at.button(key="cmd-skip").click().run()
    assert not at.exception
    bars = progress_bars(at)
    assert bars[0].text.startswith((":material/skip_next:", ":material/check_circle:"))
    assert bars[1].text.startswith(":material/play_circle: 2.")


def test_empty_answer_is_rejected_and_not_recorded(core: Any) -> None:
    at = start_design(page("interview"))
    sid = at.session_state["interview_sid"]
    before = len(core.history(sid))
    at.chat_input[0].set_value("   ").run()
    assert not at.exception
    assert at.warning, "an empty answer should get a visible explanation"
    assert len(core.history(sid)) == before


def test_resume_a_past_session_in_a_new_tab(core: Any) -> None:
    sid, _ = core.start(_config(case_id=CASE))
    core.respond(sid, REQUIREMENTS_ANSWER)

    at = page("interview").run()
    at.selectbox(key="resume_choice").set_value(sid)
    at.button(key="open_session").click().run()
    assert not at.exception
    assert at.session_state["interview_sid"] == sid
    assert "user" in chat_roles(at)
    assert "watch time" in texts(at)
    assert any(e.label.startswith("Feedback ·") for e in at.expander)
    assert progress_bars(at)[0].value > 0

    # The session continues where it stopped.
    n = len(core.history(sid))
    at.chat_input[0].set_value("We would frame it as a ranking problem.").run()
    assert not at.exception
    assert len(core.history(sid)) > n


def test_session_id_in_the_url_reopens_it(core: Any) -> None:
    sid, _ = core.start(_config(case_id=CASE))
    at = page("interview")
    at.query_params["session"] = sid
    at.run()
    assert not at.exception
    assert at.session_state["interview_sid"] == sid
    assert len(progress_bars(at)) == 7


def test_drill_and_ask_modes_start_from_the_sidebar(core: Any) -> None:
    from bot.interviewer import Mode

    at = page("interview").run()
    at.radio(key="new_mode").set_value(Mode.DRILL).run()
    topics = core.topics()
    if "drift" in topics:
        at.selectbox(key="new_topic").set_value("drift")
    at.slider(key="new_questions").set_value(2)
    at.button(key="start_drill").click().run()
    assert not at.exception, at.exception
    assert core.db.summary(at.session_state["interview_sid"]).mode is Mode.DRILL
    assert at.get("progress")  # questions asked of total
    at.chat_input[0].set_value(
        "Concept drift is when the relationship between inputs and labels changes over time, "
        "so P(y|x) shifts; detect it by monitoring accuracy on fresh labels and retrain."
    ).run()
    assert not at.exception
    assert any(e.label.startswith("Feedback ·") for e in at.expander)

    at.radio(key="new_mode").set_value(Mode.ASK).run()
    at.button(key="start_ask").click().run()
    sid = at.session_state["interview_sid"]
    assert core.db.summary(sid).mode is Mode.ASK
    at.chat_input[0].set_value("explain concept drift").run()
    assert not at.exception
    assert "drift" in texts(at).lower()


def test_history_page_lists_sessions_charts_and_the_due_queue(core: Any, svc: Any) -> None:
    at = page("history").run()
    assert not at.exception
    assert "No sessions yet" in at.info[0].value

    sid, _ = core.start(_config(case_id=CASE))
    core.respond(sid, REQUIREMENTS_ANSWER)
    core.respond(sid, "end")
    assert core.db.summary(sid).finished
    # Time travel: make every scheduled review due now.
    with core.db._tx() as conn:
        conn.execute("UPDATE reviews SET due_at = ?", (time.time() - 60,))
    due = core.db.due()

    at = page("history").run()
    assert not at.exception
    assert metric(at, "Sessions") == "1"
    assert metric(at, "Finished") == "1"
    assert at.dataframe[0].value["id"].tolist() == [sid]
    assert at.get("vega_lite_chart"), "scores over time and per-step charts"
    assert "Weakest questions" in texts(at)
    weakest = core.db.score_summary("item_id")[0]
    assert f"**{weakest.mean:.1f}/4** over {weakest.answers} answer(s)" in texts(at)
    assert f"{len(due)} item(s) due" in " ".join(c.value for c in at.caption)
    if due:
        item = svc.store.item(due[0].item_id)
        assert item is not None and item.question in texts(at)

    delete = next(b for b in at.button if b.label == "Delete this session")
    delete.click().run()
    assert not at.exception
    assert core.db.list() == []


def _config(**kw: Any) -> Any:
    from bot.interviewer import InterviewConfig, Mode

    return InterviewConfig(mode=Mode.DESIGN, **kw)


def test_history_opens_a_session_in_the_interview_room(core: Any) -> None:
    sid, _ = core.start(_config(case_id=CASE))
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=120).run()
    at.switch_page("pages/history.py").run()
    assert at.title[0].value == "History"
    at.selectbox(key="history_pick").set_value(sid)
    next(b for b in at.button if b.label == "Open in the interview room").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Interview room"
    assert at.session_state["interview_sid"] == sid
    assert len(progress_bars(at)) == 7


@pytest.mark.usefixtures("fresh_services")
def test_knowledge_page_browses_by_step_and_topic() -> None:
    at = page("knowledge").run()
    assert not at.exception
    at.selectbox[0].select_index(6).run()
    labels = [e.label for e in at.expander]
    assert any("concept drift" in label.lower() for label in labels)
    topics = at.multiselect[0]
    assert topics.options
    at.multiselect[0].set_value([topics.options[0]]).run()
    assert 0 < len(at.expander) <= len(labels)


NOTES = b"""# My MLOps notes

What is a feature store?
- It keeps feature definitions in one place so training and serving compute them the same way.
- It serves fresh features online with low latency.
- It stores point-in-time correct history for building training sets.
"""


def test_knowledge_upload_ingests_inside_the_data_dir_and_removes(
    fresh_services: Path, tmp_path: Path
) -> None:
    at = page("knowledge").run()
    at.file_uploader(key="kb_upload").set_value(
        ("../../../escape-notes.md", NOTES, "text/markdown")
    ).run()
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert not at.exception, at.exception
    assert any(s.value.endswith(" 1 extracted questions") for s in at.success), at.success
    assert [p.value for p in progress_bars(at)] == [100]

    written = [p for p in tmp_path.rglob("*escape-notes*") if p.is_file()]
    assert written and all((fresh_services / "uploads") in p.parents for p in written)
    assert any("extracted questions" in e.label for e in at.expander)
    assert "What is a feature store?" in texts(at)

    remove = next(b for b in at.button if b.label == "Remove")
    remove.click().run()
    assert not at.exception
    assert "Nothing yet" in " ".join(c.value for c in at.caption)


@pytest.mark.usefixtures("fresh_services")
def test_knowledge_upload_errors_are_clear() -> None:
    at = page("knowledge").run()
    at.file_uploader(key="kb_upload").set_value(("empty.md", b"   \n", "text/markdown")).run()
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert not at.exception
    assert "empty.md: file is empty" in at.error[0].value


def test_status_line_says_when_the_endpoint_is_down(
    fresh_services: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("PANELIST_RETRIES", "0")
    monkeypatch.setenv("PANELIST_TIMEOUT_S", "3")
    at = page("interview").run()
    assert not at.exception, at.exception
    assert "grader: **llm**" in at.caption[0].value
    assert any("not available right now" in w.value for w in at.warning)

    # The interview goes on: the answer is still graded, by the embedded fallback, and
    # the replies are streamed (an LLM is configured) without breaking the page.
    start_design(at)
    at.chat_input[0].set_value(REQUIREMENTS_ANSWER).run()
    assert not at.exception, at.exception
    assert any(e.label.startswith("Feedback ·") for e in at.expander)
    assert any(w.value.startswith("Graded by the embedded grader") for w in at.warning), [
        w.value for w in at.warning
    ]

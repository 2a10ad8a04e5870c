"""End to end in a real browser: `streamlit run` driven by Playwright and Debian's Chromium.

One module-wide server and browser; each test opens its own browser contexts.
Screenshots of the interview page and the scorecard go to test-artifacts/.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow

ANSWERS = [
    "I'd start by clarifying the business objective: grow engagement, measured as watch time "
    "per user rather than clicks. What is the scale, how many daily active users and how many "
    "videos? Recommendations must load in under 200 ms, and we have watch history, likes, "
    "searches and video metadata. New users and new videos need a cold start plan.",
    "I'd frame it as a ranking problem: the input is a user and their context, the output is "
    "a ranked list of videos. The ML objective is to predict the probability the user watches "
    "a video for a while, a pointwise learning to rank model with a two-stage design: "
    "candidate generation then a ranker.",
    "For data, I'd join the interaction logs with user and video features in a feature store, "
    "handle missing values, normalize numeric features, one-hot or embed categorical ones, and "
    "label positives as videos watched past half their length; negatives are impressions that "
    "were skipped. I'd check the data for popularity bias.",
]
NOTES = """# Serving notes

What is a canary release?
- A new model version gets a small share of live traffic first.
- Its error rate and latency are compared with the current version before it gets more.
- It is rolled back automatically if its metrics get worse.
"""


def sidebar_select(page: Any, label: str, option: str) -> None:
    """Pick an option of a sidebar selectbox by its label (Streamlit renders a combobox)."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option).click()


def start_design(page: Any, server: Server, case_title: str) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    expect(page.get_by_role("heading", name="Interview room")).to_be_visible()
    sidebar_select(page, "Case", case_title)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Start interview").click()
    expect(page.get_by_test_id("stProgress")).to_have_count(7)
    title = case_title.split(" (")[0]
    expect(page.get_by_role("heading", name=f"Design: {title}")).to_be_visible()
    idle(page)


def answer(page: Any, text: str) -> None:
    """Type an answer, send it with Enter and wait for the feedback it earns."""
    from playwright.sync_api import expect

    feedback = page.get_by_test_id("stExpander").filter(has_text="Feedback ·")
    before = feedback.count()
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill(text)
    box.press("Enter")
    expect(feedback.nth(before)).to_be_attached()
    idle(page)


def idle(page: Any) -> None:
    """Wait until the script run the last action started has finished."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0)
    expect(page.locator('[data-stale="true"]')).to_have_count(0)


def panel(page: Any) -> list[str]:
    """The labels of the seven coverage bars (status icon, step, coverage, score)."""
    return page.get_by_test_id("stProgress").all_inner_texts()


def coverage(page: Any) -> list[int]:
    """The percentages the seven coverage bars show."""
    return [int(re.search(r"(\d+)%", label).group(1)) for label in panel(page)]  # type: ignore[union-attr]


def session_id(page: Any) -> str:
    match = re.search(r"[?&]session=([0-9a-f]+)", page.url)
    assert match, page.url
    return match.group(1)


def test_three_answer_design_interview_to_its_scorecard(
    server: Server, new_page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    start_design(page, server, "Video recommendation (medium)")
    assert coverage(page) == [0] * 7

    seen = []
    for text in ANSWERS:
        answer(page, text)
        seen.append(panel(page))
    # At most two follow-ups per step: after three answers step 1 is closed and scored,
    # step 2 is current, and the panel shows what step 1's three answers covered.
    labels = seen[-1]
    assert "check_circle" in labels[0] and "play_circle" in labels[1], seen
    assert re.search(r"\d\.\d/4", labels[0]), labels
    assert coverage(page)[0] > 0, seen

    # The latest feedback is open and marks the credited words in the candidate's own text;
    # an earlier one opens on a click and shows that answer.
    feedback = page.get_by_test_id("stExpander").filter(has_text="Feedback ·")
    last = feedback.last
    expect(last.locator("mark").first).to_be_visible()
    marks = last.locator("mark").all_inner_texts()
    assert marks and all(m.strip() in " ".join(ANSWERS) for m in marks), marks
    first = feedback.first
    first.locator("summary").click()
    expect(first.get_by_text("Your answer")).to_be_visible()
    # (the first match is the answer itself; a credited point may quote the same words below)
    expect(first.get_by_text(ANSWERS[0][:40]).first).to_be_visible()
    last.evaluate("e => e.closest('[data-testid=stChatMessage]').scrollIntoView({block: 'start'})")
    page.screenshot(path=str(artifacts / "interview.png"))

    page.locator(".st-key-cmd-end button").click()
    card = page.get_by_role("heading", name=re.compile(r"^Scorecard"))
    expect(card).to_be_visible()
    idle(page)
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(2)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_disabled()
    card.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.screenshot(path=str(artifacts / "scorecard.png"))

    with sqlite3.connect(server.home / "panelist.db") as db:
        finished = db.execute(
            "SELECT finished_at FROM sessions WHERE id = ?", (session_id(page),)
        ).fetchone()
    assert finished and finished[0] is not None


def test_upload_a_markdown_file_on_the_knowledge_page(
    server: Server, new_page: Any, tmp_path: Path, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    notes = tmp_path / "serving-notes.md"
    notes.write_text(NOTES)
    page = new_page()
    page.goto(f"{server.url}/knowledge")
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    page.get_by_role("tab", name="Your notes").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(notes))
    page.get_by_role("button", name="Ingest").click()
    expect(page.get_by_text(re.compile(r"passages, 1 extracted questions"))).to_be_visible()
    idle(page)
    expect(
        page.get_by_test_id("stProgress").filter(has_text="serving-notes.md: done")
    ).to_have_count(1)
    expect(page.get_by_test_id("stExpander").filter(has_text="extracted questions")).to_be_visible()
    page.screenshot(path=str(artifacts / "knowledge-upload.png"))
    uploads = list((server.home / "uploads").glob("serving-notes*.md"))
    assert uploads and uploads[0].read_text() == NOTES


def test_two_browser_contexts_run_two_interviews_without_mixing(
    server: Server, new_page: Any
) -> None:
    from playwright.sync_api import expect

    alice, bob = new_page(), new_page()
    start_design(alice, server, "Video recommendation (medium)")
    start_design(bob, server, "Ad click prediction (hard)")
    a_id, b_id = session_id(alice), session_id(bob)
    assert a_id != b_id

    # Both send before either waits: the two server sessions run at the same time.
    a_text = "Alice asks about watch time and cold start for new videos before anything else."
    b_text = "Bob asks about click-through rate, advertiser budgets and calibration first."
    for page, text in ((alice, a_text), (bob, b_text)):
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(text)
        box.press("Enter")
    for page in (alice, bob):
        expect(page.get_by_test_id("stExpander").filter(has_text="Feedback ·")).to_have_count(1)

    assert "Alice asks" in alice.inner_text("body") and "Bob asks" not in alice.inner_text("body")
    assert "Bob asks" in bob.inner_text("body") and "Alice asks" not in bob.inner_text("body")
    assert session_id(alice) == a_id and session_id(bob) == b_id
    with sqlite3.connect(server.home / "panelist.db") as db:
        rows = dict(
            db.execute(
                "SELECT session_id, group_concat(text, ' | ') FROM turns "
                "WHERE role = 'candidate' AND session_id IN (?, ?) GROUP BY session_id",
                (a_id, b_id),
            ).fetchall()
        )
    assert rows[a_id] == a_text and rows[b_id] == b_text

    # A reload keeps each tab on its own interview (the id is in the URL).
    bob.reload()
    candidate = bob.get_by_role("group", name="Chat message from user")
    expect(candidate.filter(has_text="Bob asks")).to_have_count(1)
    expect(bob.get_by_text("Alice asks")).to_have_count(0)

"""`panelist interview` and `panelist sessions` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.schema import Step
from tests.llm_server import llama_server

pytestmark = pytest.mark.slow
PANELIST = str(Path(sys.executable).parent / "panelist")
SESSION = re.compile(r"Session (\w+) \(resume with")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def run(args: list[str], stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PANELIST, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=900,
    )


def test_piped_drill_prints_questions_feedback_and_the_scorecard(indexed_home: Path) -> None:
    answers = (
        "Concept drift means the relationship between the inputs and the label changes over time, "
        "so a model trained on old data becomes wrong even when the inputs look the same.\n"
        "I would monitor it and retrain on recent data.\n"
        "end\n"
    )
    out = run(["interview", "--mode", "drill", "--topic", "drift", "--seed", "1"], answers)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert SESSION.search(text)
    assert text.count("Question") >= 1 and "Feedback" in text and "Model answer" in text
    assert "Scorecard" in text and "Overall:" in text
    assert "drift" in text.lower()


def test_piped_design_interview_runs_to_its_scorecard(indexed_home: Path) -> None:
    answers = "\n".join(
        [
            "What is the business goal, and how many users and videos are there?",
            "next",
            "I would frame it as ranking: predict the probability of a meaningful watch.",
            *["next"] * 6,
        ]
    )
    out = run(["interview", "--case", "video-recommendation"], answers + "\n")
    assert out.returncode == 0, out.stderr
    assert "500 million" in out.stdout  # an assumption revealed because it was asked
    card = out.stdout.split("Scorecard: Design: Video recommendation")[1]
    assert all(step.label in card for step in Step)


def test_end_of_input_leaves_the_session_resumable(indexed_home: Path) -> None:
    out = run(["interview", "--mode", "drill", "--topic", "drift"], "It changes.\n")
    assert out.returncode == 0
    sid = SESSION.search(out.stdout).group(1)  # type: ignore[union-attr]
    assert f"--resume {sid}" in out.stdout.splitlines()[-1]


def test_a_killed_interview_resumes_with_nothing_lost(indexed_home: Path) -> None:
    proc = subprocess.Popen(
        [PANELIST, "interview", "--case", "video-recommendation"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    assert proc.stdin and proc.stdout
    answers = [
        "Success means long-term watch time and return visits rather than clicks.",
        "What latency do we need?",
        "I would look at likes, skips and 'not interested' taps as explicit feedback.",
    ]
    seen: list[str] = []
    sid = None
    deadline = time.monotonic() + 600
    for answer in answers:
        proc.stdin.write(answer + "\n")
        proc.stdin.flush()
        # Wait until the reply to this answer has been printed (it was committed before).
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if sid is None and (m := SESSION.search(line)):
                sid = m.group(1)
            if line.startswith("you> " + answer[:20]):
                break
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if line.strip() in ("Follow-up", "Question"):
                proc.stdout.readline()
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sid, "".join(seen)
    db = indexed_home / "panelist.db"
    said = [
        r[0]
        for r in sqlite3.connect(db).execute(
            "SELECT text FROM turns WHERE session_id = ? AND role = 'candidate' ORDER BY n", (sid,)
        )
    ]
    assert said == answers
    out = run(["interview", "--resume", sid[:6]], "end\n")
    assert out.returncode == 0, out.stderr
    assert f"Resuming session {sid}" in out.stdout
    assert "Scorecard" in out.stdout
    export = json.loads(run(["sessions", "export", sid, "--format", "json"]).stdout)
    candidate = [t["text"] for t in export["turns"] if t["role"] == "candidate"]
    assert candidate == [*answers, "end"]


def test_sessions_list_show_export_delete(indexed_home: Path, tmp_path: Path) -> None:
    out = run(["interview", "--mode", "drill", "--topic", "drift", "--questions", "1"], "end\n")
    sid = SESSION.search(out.stdout).group(1)  # type: ignore[union-attr]
    listing = run(["sessions", "list"])
    assert sid in listing.stdout and "Drill: drift" in listing.stdout
    shown = run(["sessions", "show", sid])
    assert "Transcript" in shown.stdout and "Scorecard" in shown.stdout
    target = tmp_path / "s.md"
    assert run(["sessions", "export", sid, "--out", str(target)]).returncode == 0
    assert target.read_text().startswith("# Drill: drift")
    assert run(["sessions", "delete", sid, "--yes"]).returncode == 0
    missing = run(["sessions", "show", sid])
    assert missing.returncode == 2 and "sessions list" in missing.stderr


def test_bad_options_say_how_to_fix_them(indexed_home: Path) -> None:
    out = run(["interview", "--case", "no-such-case"])
    assert out.returncode == 2 and "video-recommendation" in out.stderr
    out = run(["interview", "--mode", "drill", "--topic", "zzzz qqqq", "--step", "data"])
    assert out.returncode == 2 and "try one of" in out.stderr
    out = run(["interview", "--resume", "nope"])
    assert out.returncode == 2 and "sessions list" in out.stderr
    assert "PANELIST_TOPIC" in run(["interview", "--help"]).stdout


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with llama_server(tmp_path_factory.mktemp("llama")) as url:
        yield url


def test_design_interview_with_the_llama_server_backend(indexed_home: Path, llama_url: str) -> None:
    answers = "\n".join(
        [
            "I would ask how many users there are and what the business goal is.",
            "I do not know.",
            "next",
            "A ranking model that predicts watch time.",
            *["next"] * 6,
        ]
    )
    out = run(
        ["interview", "--case", "video-recommendation", "--followups", "1"],
        answers + "\n",
        OPENAI_BASE_URL=llama_url,
        PANELIST_MODEL="smollm2",
        PANELIST_JUDGE="embedded",
        PANELIST_TIMEOUT_S="60",
    )
    assert out.returncode == 0, out.stderr
    assert "Follow-up" in out.stdout and "Scorecard: Design: Video recommendation" in out.stdout


def test_drill_with_the_llama_server_as_judge(indexed_home: Path, llama_url: str) -> None:
    answers = (
        "Concept drift is when the relationship between features and the label changes, "
        "so the model must be retrained on recent data.\nend\n"
    )
    out = run(
        ["interview", "--mode", "drill", "--topic", "drift", "--questions", "1"],
        answers,
        OPENAI_BASE_URL=llama_url,
        PANELIST_MODEL="smollm2",
        PANELIST_JUDGE="llm",
        PANELIST_TIMEOUT_S="60",
        PANELIST_RETRIES="1",
    )
    assert out.returncode == 0, out.stderr
    assert "Feedback" in out.stdout and "Scorecard" in out.stdout
    # The small model either judged (verdicts checked against the answer) or fell back, visibly.
    assert "Score for this answer" in out.stdout

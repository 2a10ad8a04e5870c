"""The sessions database: migrations, atomic turns, concurrent writers, SM-2, export."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.interviewer.models import InterviewConfig, InterviewerMessage, InterviewState, Mode
from bot.sessions import MIGRATIONS, Review, SessionDB, SessionError, sm2


def _state(**kw: object) -> InterviewState:
    return InterviewState(config=InterviewConfig(mode=Mode.DRILL), **kw)  # type: ignore[arg-type]


def _msg(text: str, kind: str = "question") -> InterviewerMessage:
    return InterviewerMessage(kind=kind, text=text)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> SessionDB:
    return SessionDB(tmp_path / "panelist.db")


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and names[0] == "m001_initial"
    assert SessionDB(path).applied_migrations() == names
    assert SessionDB(path).applied_migrations() == names  # reopening applies nothing twice


def test_a_turn_is_stored_with_its_state(db: SessionDB) -> None:
    sid = db.create(_state(), "Drill: drift", [_msg("Q1?")])
    db.record_turn(sid, "my answer", [_msg("Good.", "notice"), _msg("Q2?")], _state(hints=2))
    turns = db.turns(sid)
    assert [(t.role, t.kind, t.text) for t in turns] == [
        ("interviewer", "question", "Q1?"),
        ("candidate", "answer", "my answer"),
        ("interviewer", "notice", "Good."),
        ("interviewer", "question", "Q2?"),
    ]
    assert turns[-1].message == _msg("Q2?")
    assert db.state(sid).hints == 2
    (summary,) = db.list()
    assert summary.title == "Drill: drift" and summary.n_turns == 4 and not summary.finished


def test_a_failed_turn_leaves_nothing_behind(db: SessionDB) -> None:
    sid = db.create(_state(), "t", [_msg("Q1?")])

    class Boom(InterviewerMessage):
        def model_dump_json(self, **kw: object) -> str:  # type: ignore[override]
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        db.record_turn(sid, "answer", [_msg("ok"), Boom(kind="notice", text="x")], _state(hints=5))
    assert len(db.turns(sid)) == 1 and db.state(sid).hints == 0


def test_unknown_sessions_and_prefixes(db: SessionDB) -> None:
    with pytest.raises(SessionError, match="sessions list"):
        db.state("missing")
    a = db.create(_state(), "a", [], session_id="abc111")
    db.create(_state(), "b", [], session_id="abc222")
    assert db.resolve("abc1") == a
    with pytest.raises(SessionError, match="matches 2"):
        db.resolve("abc")
    db.delete(a)
    with pytest.raises(SessionError):
        db.delete(a)
    assert [s.id for s in db.list()] == ["abc222"]


def test_a_corrupted_database_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "panelist.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SessionError, match=r"Move the file away|not usable"):
        SessionDB(path)


def test_threads_writing_at_once_lose_nothing(db: SessionDB) -> None:
    ids = [db.create(_state(), f"s{n}", []) for n in range(4)]

    def write(sid: str) -> None:
        for n in range(25):
            db.record_turn(sid, f"{sid}-{n}", [_msg(f"reply {n}")], _state(hints=n))

    threads = [threading.Thread(target=write, args=(sid,)) for sid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sid in ids:
        said = [t.text for t in db.turns(sid) if t.role == "candidate"]
        assert said == [f"{sid}-{n}" for n in range(25)]
        assert db.state(sid).hints == 24


def _write_from_process(path: str, sid: str) -> None:
    db = SessionDB(Path(path))
    for n in range(20):
        db.record_turn(sid, f"{sid}-{n}", [_msg("r")], _state())


def test_processes_writing_at_once_lose_nothing(db: SessionDB) -> None:
    ids = [db.create(_state(), f"p{n}", []) for n in range(3)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_from_process, args=(str(db.path), sid)) for sid in ids]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for sid in ids:
        assert len([t for t in db.turns(sid) if t.role == "candidate"]) == 20
    assert sqlite3.connect(db.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("qualities", "interval", "reps"),
    [
        pytest.param([5], 1.0, 1, id="first-success"),
        pytest.param([5, 5], 6.0, 2, id="second-success"),
        pytest.param([5, 5, 5], 6.0 * 2.7, 3, id="grows-by-ease"),
        pytest.param([5, 5, 1], 1.0, 0, id="a-miss-starts-over"),
    ],
)
def test_sm2_intervals(qualities: list[int], interval: float, reps: int) -> None:
    review: Review | None = None
    for q in qualities:
        review = sm2(review, "x", q, now=0.0)
    assert review is not None
    assert review.interval_days == pytest.approx(interval, rel=0.01)
    assert review.repetitions == reps and review.due_at == pytest.approx(interval * 86400, rel=0.01)
    assert review.ease >= 1.3


def test_reviews_are_scheduled_and_come_due(tmp_path: Path) -> None:
    now = [1000.0]
    db = SessionDB(tmp_path / "s.db", clock=lambda: now[0])
    sid = db.create(_state(), "t", [])
    db.record_turn(sid, "a", [], _state(), reviews=[("data-leakage", 5)])
    db.record_turn(sid, "b", [], _state(), reviews=[("concept-drift", 1), ("data-leakage", 5)])
    assert db.due() == []
    now[0] += 1.5 * 86400
    assert [r.item_id for r in db.due()] == ["concept-drift"]
    now[0] += 10 * 86400
    assert {r.item_id for r in db.due()} == {"concept-drift", "data-leakage"}


def test_export_holds_everything(db: SessionDB) -> None:
    sid = db.create(_state(), "t", [_msg("Q1?")])
    db.record_turn(sid, "answer", [_msg("next?")], _state(finished=True))
    data = json.loads(json.dumps(db.export(sid)))
    assert data["id"] == sid and data["finished_at"] is not None
    assert [t["text"] for t in data["turns"]] == ["Q1?", "answer", "next?"]
    assert data["state"]["finished"] is True


def test_grades_are_stored_per_graded_message(db: SessionDB) -> None:
    from bot.grading.models import Feedback, Grade

    grade = Grade(verdicts=[], score_0_4=2.5, grader="embedded", feedback=Feedback(summary="s"))
    sid = db.create(_state(), "t", [_msg("Q1?")])
    feedback = InterviewerMessage(kind="feedback", text="ok", item_id="concept-drift", grade=grade)
    db.record_turn(sid, "answer", [feedback, _msg("Q2?")], _state())
    interim = InterviewerMessage(
        kind="feedback", text="so far", item_id="concept-drift", grade=grade, open_points=2
    )
    db.record_turn(sid, "more", [interim], _state())
    first, second = db.grades(sid)
    assert first["item_id"] == "concept-drift" and first["score"] == 2.5 and first["turn_n"] == 3
    assert first["final"] == 1 and second["final"] == 0 and "grade_json" not in first
    assert [g for g in db.grades() if g["final"]] == [first]


def test_score_summary_averages_closing_grades_weakest_first(db: SessionDB) -> None:
    from bot.grading.models import Feedback, Grade
    from knowledge.schema import Step

    def graded(score: float, item: str, step: Step | None, open_points: int | None = None):  # type: ignore[no-untyped-def]
        grade = Grade(
            verdicts=[], score_0_4=score, grader="embedded", feedback=Feedback(summary="")
        )
        return InterviewerMessage(
            kind="feedback", text="", item_id=item, step=step, grade=grade, open_points=open_points
        )

    sid = db.create(_state(), "t", [_msg("Q1?")])
    db.record_turn(sid, "a", [graded(0.5, "drift", None, open_points=2)], _state())  # not closing
    db.record_turn(sid, "b", [graded(3.0, "drift", None)], _state())
    db.record_turn(
        sid,
        "c",
        [graded(1.0, "vr.data", Step.DATA), graded(2.0, "vr.eval", Step.EVALUATION)],
        _state(),
    )
    db.record_turn(sid, "d", [graded(2.0, "vr.data", Step.DATA)], _state())
    by_item = db.score_summary("item_id")
    assert [(r.key, r.mean, r.answers) for r in by_item] == [
        ("vr.data", 1.5, 2),
        ("vr.eval", 2.0, 1),
        ("drift", 3.0, 1),
    ]
    by_step = {r.key: (r.mean, r.answers) for r in db.score_summary("step")}
    assert by_step == {Step.DATA.value: (1.5, 2), Step.EVALUATION.value: (2.0, 1), None: (3.0, 1)}

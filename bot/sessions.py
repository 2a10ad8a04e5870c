"""Interview sessions in SQLite: sessions, turns, grades and the spaced-repetition schedule.

One file in the data directory (`Settings.db_path`). The schema evolves by
numbered migrations recorded in `_migrations`. Every candidate message and
the interviewer's reply are written in one transaction together with the new
interview state, so a crash never leaves a half-recorded turn and a resumed
session continues from the last committed one. WAL mode and a busy timeout
let many UI tabs (each with its own connection) write at once.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.interviewer.models import InterviewerMessage, InterviewState, Mode, Scorecard


@dataclass(frozen=True)
class ScoreSummary:
    """The mean closing score of one framework step or one question."""

    key: str | None
    mean: float
    answers: int


class SessionError(Exception):
    """A session that does not exist, or a database that cannot be used."""


class SessionConflict(SessionError):
    """The session moved on (another tab or process committed a turn) since it was read."""


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            mode TEXT NOT NULL,
            title TEXT NOT NULL,
            config_json TEXT NOT NULL,
            state_json TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            finished_at REAL,
            overall REAL,
            scorecard_json TEXT
        );
        CREATE TABLE turns (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            n INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('candidate', 'interviewer')),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            message_json TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, n)
        );
        CREATE TABLE grades (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            turn_n INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            step TEXT,
            score REAL NOT NULL,
            grader TEXT NOT NULL,
            grade_json TEXT NOT NULL,
            PRIMARY KEY (session_id, turn_n)
        );
        CREATE TABLE reviews (
            item_id TEXT PRIMARY KEY,
            repetitions INTEGER NOT NULL,
            interval_days REAL NOT NULL,
            ease REAL NOT NULL,
            due_at REAL NOT NULL,
            last_quality INTEGER NOT NULL,
            last_session TEXT,
            updated_at REAL NOT NULL
        );
        CREATE INDEX turns_by_session ON turns(session_id, n);
        CREATE INDEX reviews_by_due ON reviews(due_at);
        """,
    )


@migration
def m002_final_grades(db: sqlite3.Connection) -> None:
    # Per-answer grades and the grade a question closes with were stored alike; only the
    # latter is a question's score, so history and averages need to tell them apart.
    db.execute("ALTER TABLE grades ADD COLUMN final INTEGER NOT NULL DEFAULT 1")


@dataclass(frozen=True)
class TurnRecord:
    n: int
    role: str  # "candidate" | "interviewer"
    kind: str
    text: str
    message: InterviewerMessage | None
    created_at: float


@dataclass(frozen=True)
class SessionSummary:
    id: str
    mode: Mode
    title: str
    created_at: float
    updated_at: float
    finished_at: float | None
    overall: float | None
    n_turns: int

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Review:
    item_id: str
    repetitions: int
    interval_days: float
    ease: float
    due_at: float
    last_quality: int


def sm2(previous: Review | None, item_id: str, quality: int, now: float) -> Review:
    """SM-2: quality 0-5; below 3 starts the item over, otherwise the interval grows by `ease`."""
    quality = max(0, min(5, quality))
    reps, interval, ease = (
        (previous.repetitions, previous.interval_days, previous.ease) if previous else (0, 0.0, 2.5)
    )
    if quality < 3:
        reps, interval = 0, 1.0
    else:
        reps += 1
        interval = 1.0 if reps == 1 else 6.0 if reps == 2 else round(interval * ease, 2)
    ease = max(1.3, ease + 0.1 - (5 - quality) * (0.08 + (5 - quality) * 0.02))
    return Review(item_id, reps, interval, round(ease, 3), now + interval * 86400, quality)


class SessionDB:
    """A connection per thread to the sessions database; safe under concurrent writers."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._tx() as db:
            self._migrate(db)

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.DatabaseError as exc:
                raise SessionError(
                    f"cannot open the sessions database {self.path}: {exc}. Move the file away "
                    "to start a fresh one (past sessions are kept in the moved file)."
                ) from exc
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """An immediate transaction: writers queue on the lock instead of failing mid-way."""
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise SessionError(f"the sessions database {self.path} is not usable: {exc}") from exc
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)"
        )
        done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        for name, fn in MIGRATIONS:
            if name not in done:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT name FROM _migrations ORDER BY name")]

    # -- sessions ----------------------------------------------------------------------------
    def create(
        self,
        state: InterviewState,
        title: str,
        messages: Sequence[InterviewerMessage],
        session_id: str | None = None,
    ) -> str:
        """Store a new session with the interviewer's opening messages; return its id."""
        sid = session_id or uuid.uuid4().hex[:12]
        now = self.clock()
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions (id, mode, title, config_json, state_json, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    state.config.mode.value,
                    title,
                    state.config.model_dump_json(),
                    state.model_dump_json(),
                    now,
                    now,
                ),
            )
            self._append(db, sid, None, messages, now)
        return sid

    def record_turn(
        self,
        session_id: str,
        candidate_text: str | None,
        messages: Sequence[InterviewerMessage],
        state: InterviewState,
        *,
        scorecard: Scorecard | None = None,
        reviews: Sequence[tuple[str, int]] = (),
        after_turn: int | None = None,
    ) -> None:
        """Commit one exchange atomically: the candidate's words, the reply, the new state.

        With `after_turn` (the turn number `snapshot` gave with the state the new one was
        computed from), a session that has moved on since raises SessionConflict and nothing
        is written: two tabs answering at once must not overwrite each other's state."""
        now = self.clock()
        with self._tx() as db:
            row = db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise SessionError(f"no session {session_id!r}")
            if after_turn is not None and self._last_turn(db, session_id) != after_turn:
                raise SessionConflict(f"session {session_id!r} moved on since it was read")
            first = self._append(db, session_id, candidate_text, messages, now)
            for offset, message in enumerate(messages):
                if message.grade is None:
                    continue
                db.execute(
                    "INSERT INTO grades (session_id, turn_n, item_id, step, score, grader, "
                    "grade_json, final) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        first + offset,
                        message.item_id or "",
                        message.step.value if message.step else None,
                        message.grade.score_0_4,
                        message.grade.grader,
                        message.grade.model_dump_json(),
                        int(message.open_points is None),
                    ),
                )
            db.execute(
                "UPDATE sessions SET state_json = ?, updated_at = ?, finished_at = ?, overall = ?, "
                "scorecard_json = COALESCE(?, scorecard_json) WHERE id = ?",
                (
                    state.model_dump_json(),
                    now,
                    now if state.finished else None,
                    scorecard.overall if scorecard else None,
                    scorecard.model_dump_json() if scorecard else None,
                    session_id,
                ),
            )
            for item_id, quality in reviews:
                self._review(db, item_id, quality, session_id, now)

    def _append(
        self,
        db: sqlite3.Connection,
        sid: str,
        candidate_text: str | None,
        messages: Sequence[InterviewerMessage],
        now: float,
    ) -> int:
        """Append turns; return the number of the first interviewer message."""
        n = self._last_turn(db, sid)
        if candidate_text is not None:
            n += 1
            db.execute(
                "INSERT INTO turns VALUES (?, ?, 'candidate', 'answer', ?, NULL, ?)",
                (sid, n, candidate_text, now),
            )
        first = n + 1
        for message in messages:
            n += 1
            db.execute(
                "INSERT INTO turns VALUES (?, ?, 'interviewer', ?, ?, ?, ?)",
                (sid, n, message.kind, message.text, message.model_dump_json(), now),
            )
        return first

    @staticmethod
    def _last_turn(db: sqlite3.Connection, sid: str) -> int:
        (last,) = db.execute(
            "SELECT COALESCE(MAX(n), 0) FROM turns WHERE session_id = ?", (sid,)
        ).fetchone()
        return int(last)

    def snapshot(self, session_id: str) -> tuple[InterviewState, int]:
        """The session's state and the number of its latest turn, read together (one query),
        so the number can be passed back to `record_turn(after_turn=...)`."""
        row = (
            self._conn()
            .execute(
                "SELECT state_json, (SELECT COALESCE(MAX(n), 0) FROM turns t "
                "WHERE t.session_id = s.id) AS last FROM sessions s WHERE s.id = ?",
                (session_id,),
            )
            .fetchone()
        )
        if row is None:
            raise SessionError(
                f"no session {session_id!r}; `panelist sessions list` shows the ones there are"
            )
        return InterviewState.model_validate_json(row["state_json"]), int(row["last"])

    def state(self, session_id: str) -> InterviewState:
        return self.snapshot(session_id)[0]

    def turns(self, session_id: str) -> list[TurnRecord]:
        rows = (
            self._conn()
            .execute("SELECT * FROM turns WHERE session_id = ? ORDER BY n", (session_id,))
            .fetchall()
        )
        return [
            TurnRecord(
                n=r["n"],
                role=r["role"],
                kind=r["kind"],
                text=r["text"],
                message=InterviewerMessage.model_validate_json(r["message_json"])
                if r["message_json"]
                else None,
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def summary(self, session_id: str) -> SessionSummary:
        found = self.list(session_id=session_id)
        if not found:
            raise SessionError(f"no session {session_id!r}")
        return found[0]

    def list(self, *, session_id: str | None = None, limit: int = 200) -> list[SessionSummary]:
        where, args = ("WHERE s.id = ?", [session_id]) if session_id else ("", [])
        rows = (
            self._conn()
            .execute(
                "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS n_turns "
                f"FROM sessions s {where} ORDER BY s.created_at DESC, s.id LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [
            SessionSummary(
                id=r["id"],
                mode=Mode(r["mode"]),
                title=r["title"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                finished_at=r["finished_at"],
                overall=r["overall"],
                n_turns=r["n_turns"],
            )
            for r in rows
        ]

    def scorecard(self, session_id: str) -> Scorecard | None:
        row = (
            self._conn()
            .execute("SELECT scorecard_json FROM sessions WHERE id = ?", (session_id,))
            .fetchone()
        )
        if row is None:
            raise SessionError(f"no session {session_id!r}")
        return Scorecard.model_validate_json(row[0]) if row[0] else None

    def grades(self, session_id: str | None = None) -> builtins.list[dict[str, object]]:
        """Stored grades (of one session, or of all), oldest first; `final` marks the grade a
        question closed with (its score), as opposed to a single answer's on the way there."""
        sql = (
            "SELECT g.*, s.created_at AS session_created FROM grades g JOIN sessions s "
            "ON s.id = g.session_id"
        )
        args: tuple[str, ...] = ()
        if session_id:
            sql += " WHERE g.session_id = ?"
            args = (session_id,)
        rows = self._conn().execute(sql + " ORDER BY s.created_at, g.turn_n", args).fetchall()
        return [{k: r[k] for k in r.keys() if k != "grade_json"} for r in rows]  # noqa: SIM118 (a Row iterates values)

    def score_summary(self, by: Literal["step", "item_id"]) -> builtins.list[ScoreSummary]:
        """Mean closing score per framework step or per question, weakest first.

        A question counts once per time it closed; a drill's step is None."""
        column = {"step": "step", "item_id": "item_id"}[by]  # never interpolate a caller's text
        rows = (
            self._conn()
            .execute(
                f"SELECT {column} AS key, AVG(score) AS mean, COUNT(*) AS n FROM grades "
                f"WHERE final = 1 GROUP BY {column} ORDER BY mean, key"
            )
            .fetchall()
        )
        return [ScoreSummary(key=r["key"] or None, mean=r["mean"], answers=r["n"]) for r in rows]

    def delete(self, session_id: str) -> None:
        with self._tx() as db:
            cur = db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if cur.rowcount == 0:
                raise SessionError(f"no session {session_id!r}")

    def resolve(self, prefix: str) -> str:
        """A full session id from a unique prefix (ids are long to type)."""
        rows = (
            self._conn()
            .execute("SELECT id FROM sessions WHERE id LIKE ? ORDER BY id", (f"{prefix}%",))
            .fetchall()
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if not rows:
            raise SessionError(
                f"no session {prefix!r}; `panelist sessions list` shows the ones there are"
            )
        raise SessionError(f"{prefix!r} matches {len(rows)} sessions; give more characters")

    # -- spaced repetition ---------------------------------------------------------------------
    def _review(
        self, db: sqlite3.Connection, item_id: str, quality: int, session_id: str, now: float
    ) -> None:
        row = db.execute("SELECT * FROM reviews WHERE item_id = ?", (item_id,)).fetchone()
        prev = (
            Review(
                row["item_id"],
                row["repetitions"],
                row["interval_days"],
                row["ease"],
                row["due_at"],
                row["last_quality"],
            )
            if row
            else None
        )
        r = sm2(prev, item_id, quality, now)
        db.execute(
            "INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.item_id,
                r.repetitions,
                r.interval_days,
                r.ease,
                r.due_at,
                r.last_quality,
                session_id,
                now,
            ),
        )

    def reviews(self) -> builtins.list[Review]:
        rows = self._conn().execute("SELECT * FROM reviews ORDER BY due_at, item_id").fetchall()
        return [
            Review(
                r["item_id"],
                r["repetitions"],
                r["interval_days"],
                r["ease"],
                r["due_at"],
                r["last_quality"],
            )
            for r in rows
        ]

    def due(self, now: float | None = None) -> builtins.list[Review]:
        """Items whose review is due, most overdue first."""
        at = self.clock() if now is None else now
        return [r for r in self.reviews() if r.due_at <= at]

    # -- export ------------------------------------------------------------------------------
    def export(self, session_id: str) -> dict[str, object]:
        """Everything about a session as plain JSON-able data."""
        summary = self.summary(session_id)
        card = self.scorecard(session_id)
        return {
            "id": summary.id,
            "mode": summary.mode.value,
            "title": summary.title,
            "created_at": summary.created_at,
            "finished_at": summary.finished_at,
            "overall": summary.overall,
            "state": json.loads(self.state(session_id).model_dump_json()),
            "turns": [
                {
                    "n": t.n,
                    "role": t.role,
                    "kind": t.kind,
                    "text": t.text,
                    "created_at": t.created_at,
                    "message": json.loads(t.message.model_dump_json()) if t.message else None,
                }
                for t in self.turns(session_id)
            ],
            "scorecard": json.loads(card.model_dump_json()) if card else None,
        }

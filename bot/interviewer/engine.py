"""The interviewer's public face: start a session, answer it, resume it.

Each call loads the session's state from SQLite, runs one turn through the
graph and commits the candidate's message, the reply and the new state in
one transaction before returning, so nothing a candidate saw can be lost.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bot.ask import MIN_ITEM_SCORE
from bot.grading import EmbeddedGrader, Grader, make_grader
from bot.interviewer import policies
from bot.interviewer.graph import Context, Turn, build_graph, open_question
from bot.interviewer.models import (
    InterviewConfig,
    InterviewerMessage,
    InterviewState,
    Mode,
    Progress,
    Reply,
    Scorecard,
)
from bot.interviewer.scorecard import progress
from bot.llm import ChatModel, NoModel
from bot.services import Services
from bot.sessions import SessionConflict, SessionDB, SessionError, TurnRecord
from bot.settings import JudgeChoice, Settings
from knowledge.catalog import Catalog, load_catalog
from knowledge.retrieval import Retriever
from knowledge.schema import DesignCase, Step

COMMIT_ATTEMPTS = 3
"""How often one message is answered again when another tab commits to the session first."""

COMMANDS_HELP = (
    "Type `hint` for a nudge, `next` to move on, `repeat` to hear the question again, "
    "`score` for your progress and `end` to finish."
)


class InterviewError(ValueError):
    """A request the interviewer cannot serve; the message says how to fix it."""


@dataclass
class InterviewDeps:
    catalog: Catalog
    retriever: Retriever
    grader: Grader
    model: ChatModel
    db: SessionDB
    clock: Callable[[], float] = time.time


def choose_grader(settings: Settings, model: ChatModel) -> Grader:
    """The configured judge; an LLM judge always falls back to the embedded grader."""
    embedded = EmbeddedGrader()
    if settings.resolved_judge() is JudgeChoice.LLM and not isinstance(model, NoModel):
        return make_grader("llm", model, embedded)
    return embedded


class Interviewer:
    def __init__(self, deps: InterviewDeps) -> None:
        self.deps = deps
        self.db = deps.db
        self._ctx = Context(deps.catalog, deps.retriever, deps.grader, deps.model, deps.clock)
        self._graph = build_graph(self._ctx)

    # -- what can be chosen --------------------------------------------------------------------
    def cases(self) -> list[tuple[str, str, str]]:
        return [(c.id, c.title, c.difficulty.value) for c in self.deps.catalog.cases]

    def topics(self) -> list[str]:
        """Concept tags, most common first: the topics a drill can be asked for."""
        counts = Counter(t for c in self.deps.catalog.concepts for t in c.tags)
        return [t for t, _ in counts.most_common()]

    # -- sessions ------------------------------------------------------------------------------
    def start(self, config: InterviewConfig) -> tuple[str, Reply]:
        now = self.deps.clock()
        rng = random.Random(config.seed)
        state = InterviewState(config=config, started_at=now)
        messages: list[InterviewerMessage] = []
        if config.mode is Mode.DESIGN:
            case = self._pick_case(config, rng)
            state.case_id = case.id
            state.queue = [f"{case.id}.{step.value}" for step in Step]
            title = f"Design: {case.title}"
            messages.append(
                InterviewerMessage(
                    kind="prompt",
                    text=f"**{case.title}.** {case.prompt}\n\nWe will go through the seven "
                    "steps of the framework, one at a time. Ask me about scale, data or "
                    f"constraints whenever you need to. {COMMANDS_HELP}",
                )
            )
        elif config.mode is Mode.DRILL:
            state.queue = self._drill_queue(config, rng)
            what = config.topic or (config.step.label if config.step else "all topics")
            title = f"Drill: {what}"
            messages.append(
                InterviewerMessage(
                    kind="prompt",
                    text=f"**Concept drill: {what}.** {len(state.queue)} question(s); after each "
                    f"answer you get feedback, the model answer and its sources. {COMMANDS_HELP}",
                )
            )
        else:
            title = "Ask"
            messages.append(
                InterviewerMessage(
                    kind="prompt",
                    text="Ask me about any ML system design or MLOps concept, for example "
                    "*explain concept drift*. Answers come from the knowledge base, with sources.",
                )
            )
        state.title = title
        if state.queue:
            messages.append(open_question(state, self._ctx.item(state.queue.pop(0)), now))
        session_id = self.db.create(state, title, messages)
        return session_id, Reply(messages=messages, progress=self._progress(state))

    def respond(self, session_id: str, text: str) -> Reply:
        """One candidate message: refused with a reason (nothing stored), or committed.

        If another tab or process commits a turn of the same session meanwhile, the
        message is answered again from the newer state, so neither turn is lost."""
        conflict: SessionConflict | None = None
        for _ in range(COMMIT_ATTEMPTS):
            try:
                return self._respond_once(session_id, text)
            except SessionConflict as exc:
                conflict = exc
        raise InterviewError(
            "This session keeps changing in another tab; reload it and send your answer again."
        ) from conflict

    def _respond_once(self, session_id: str, text: str) -> Reply:
        state, last_turn = self._snapshot(session_id)
        if state.finished:
            return self._refuse(state, "This session has ended; start a new one to go on.")
        if not text or not text.strip():
            return self._refuse(state, "Type an answer first. " + COMMANDS_HELP)
        if len(text) > policies.MAX_MESSAGE_CHARS:
            return self._refuse(
                state,
                f"That message is {len(text):,} characters; the limit is "
                f"{policies.MAX_MESSAGE_CHARS:,}. Shorten it and send it again.",
            )
        out = self._graph.invoke(Turn(state=state, text=text.strip()))
        new_state: InterviewState = out["state"]
        messages: list[InterviewerMessage] = out["messages"]
        card: Scorecard | None = out.get("scorecard")
        self.db.record_turn(
            session_id,
            text.strip(),
            messages,
            new_state,
            scorecard=card,
            reviews=out.get("reviews", []),
            after_turn=last_turn,
        )
        return Reply(
            messages=messages,
            progress=self._progress(new_state),
            done=new_state.finished,
            scorecard=card,
        )

    def progress(self, session_id: str) -> Progress:
        return self._progress(self._state(session_id))

    def history(self, session_id: str) -> list[TurnRecord]:
        self._state(session_id)
        return self.db.turns(session_id)

    def scorecard(self, session_id: str) -> Scorecard | None:
        return self.db.scorecard(session_id)

    def state(self, session_id: str) -> InterviewState:
        return self._state(session_id)

    # -- helpers -------------------------------------------------------------------------------
    def _state(self, session_id: str) -> InterviewState:
        return self._snapshot(session_id)[0]

    def _snapshot(self, session_id: str) -> tuple[InterviewState, int]:
        try:
            return self.db.snapshot(session_id)
        except SessionError as exc:
            raise InterviewError(str(exc)) from exc

    def _progress(self, state: InterviewState) -> Progress:
        return progress(state, self._ctx.item, self.deps.catalog, self.deps.clock())

    def _refuse(self, state: InterviewState, text: str) -> Reply:
        return Reply(
            messages=[InterviewerMessage(kind="error", text=text)],
            progress=self._progress(state),
            done=state.finished,
            recorded=False,
        )

    def _pick_case(self, config: InterviewConfig, rng: random.Random) -> DesignCase:
        catalog = self.deps.catalog
        if config.case_id:
            try:
                return catalog.case(config.case_id)
            except KeyError as exc:
                raise InterviewError(exc.args[0]) from exc
        pool = [c for c in catalog.cases if config.difficulty in (None, c.difficulty)]
        if not pool:
            levels = ", ".join(sorted({c.difficulty.value for c in catalog.cases}))
            raise InterviewError(f"no case has difficulty {config.difficulty}; try {levels}")
        return rng.choice(pool)

    def _drill_queue(self, config: InterviewConfig, rng: random.Random) -> list[str]:
        if config.item_ids:
            known = {c.id for c in self.deps.catalog.concepts}
            unknown = [i for i in config.item_ids if i not in known]
            if unknown:
                raise InterviewError(f"unknown concept id(s): {', '.join(unknown)}")
            return list(config.item_ids)[: config.questions]
        concepts = [
            c
            for c in self.deps.catalog.concepts
            if (config.step is None or c.step is config.step)
            and (config.difficulty is None or c.difficulty is config.difficulty)
        ]
        if config.topic:
            needle = policies.normalise(config.topic)
            chosen = [
                c.id
                for c in concepts
                if needle in policies.normalise(" ".join([c.id, c.question, *c.tags]))
            ]
            if not chosen:
                allowed = {c.id for c in concepts}
                matches = self.deps.retriever.find_question(
                    config.topic, k=config.questions, kinds=("concept",)
                )
                chosen = [
                    m.item_id for m in matches if m.item_id in allowed and m.score >= MIN_ITEM_SCORE
                ]
        else:
            chosen = [c.id for c in concepts]
        if not chosen:
            raise InterviewError(
                f"no concept matches topic {config.topic!r}"
                + (f" at step {config.step.value}" if config.step else "")
                + f"; try one of: {', '.join(self.topics()[:12])}"
            )
        rng.shuffle(chosen)
        # Items due for review come first: that is the point of the spaced schedule.
        due = [r.item_id for r in self.db.due() if r.item_id in set(chosen)]
        ordered = due + [i for i in chosen if i not in due]
        return ordered[: config.questions]


def build_interviewer(
    services: Services, *, clock: Callable[[], float] = time.time, db: SessionDB | None = None
) -> Interviewer:
    """An interviewer over the app's services (`bot.services.build_services`).

    `db` defaults to the sessions database in the data directory.
    """
    return Interviewer(
        InterviewDeps(
            catalog=load_catalog(),
            retriever=services.retriever,
            grader=choose_grader(services.settings, services.model),
            model=services.model,
            db=db or SessionDB(services.settings.db_path, clock=clock),
            clock=clock,
        )
    )

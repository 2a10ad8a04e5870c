"""One candidate message through the interviewer, as a LangGraph state machine.

    route ─┬─ command ─┬─ (hint | repeat | score) ──────────────► END
           │           └─ (skip | end) ──► close ─┬─ ask_next ──► END
           ├─ explain (ask mode) ──► END           └─ finish ────► END
           └─ answer ─┬─ (clarifying only) ─────────────────────► END
                      ├─ followup ──────────────────────────────► END
                      └─ close ─► …

The graph holds no session: every node gets the turn (the saved interview
state plus the message) and returns a new one, so one compiled graph serves
any number of sessions at once. Dependencies come in through `Context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, Field

from bot.ask import AskError, explain
from bot.grading import Grader
from bot.grading.models import Grade
from bot.grading.scoring import assemble_grade
from bot.interviewer import policies, render
from bot.interviewer.models import (
    InterviewerMessage,
    InterviewState,
    Mode,
    QuestionState,
    Scorecard,
)
from bot.interviewer.scorecard import progress, scorecard
from bot.llm import ChatModel, LLMError, NoModel, user
from bot.prompts import render as render_prompt
from knowledge.catalog import Catalog
from knowledge.models import Citation, QuestionItem, RubricPoint
from knowledge.retrieval import Retriever

# Drill follow-ups aim only at essential points: the heaviest of the item.
ESSENTIAL_WEIGHT = 2.0


@dataclass
class Context:
    catalog: Catalog
    retriever: Retriever
    grader: Grader
    model: ChatModel
    clock: Callable[[], float]
    _items: dict[str, QuestionItem] = field(default_factory=dict)

    def item(self, item_id: str) -> QuestionItem:
        # Items are immutable, so caching them shares nothing mutable between sessions.
        if item_id not in self._items:
            self._items[item_id] = self.retriever.item(item_id)
        return self._items[item_id]


class Turn(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    state: InterviewState
    text: str = ""
    command: str | None = None
    route: str = ""
    messages: list[InterviewerMessage] = Field(default_factory=list)
    reviews: list[tuple[str, int]] = Field(default_factory=list)  # (item id, SM-2 quality)
    scorecard: Scorecard | None = None


def _say(turn: Turn, *messages: InterviewerMessage) -> list[InterviewerMessage]:
    return [*turn.messages, *messages]


def open_question(state: InterviewState, item: QuestionItem, at: float) -> InterviewerMessage:
    """Make `item` the current question of `state`; return the message that asks it."""
    q = QuestionState(
        item_id=item.id,
        step=item.step,
        question=item.question,
        point_ids=[p.id for p in item.rubric],
        started_at=at,
    )
    state.questions.append(q)
    state.asked_texts.append(q.question)
    state.last_prompt = q.question
    return InterviewerMessage(kind="question", text=q.question, step=q.step, item_id=q.item_id)


def build_graph(ctx: Context) -> Any:
    """Compile the turn graph over `ctx`; returns a runnable taking and giving `Turn` fields."""

    def now() -> float:
        return ctx.clock()

    # -- routing -------------------------------------------------------------------------------
    def route(turn: Turn) -> dict[str, Any]:
        command = policies.parse_command(turn.text)
        if command:
            return {"command": command, "route": "command"}
        if turn.state.config.mode is Mode.ASK:
            return {"route": "explain"}
        return {"route": "answer"}

    # -- commands ------------------------------------------------------------------------------
    def command(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        q = state.current
        name = turn.command
        if name == "end":
            state.end_reason = "Ended by the candidate."
            return {"state": state, "route": "close"}
        if name == "skip":
            if state.config.mode is Mode.ASK:
                return _note(turn, state, "Ask mode has no questions to skip; ask anything.")
            return {"state": state, "route": "close"}
        if name == "repeat":
            text = state.last_prompt or "Nothing has been asked yet."
            kind = "followup" if q and q.followups else "question"
            step = q.step if q else None
            message = InterviewerMessage(kind=kind, text=text, step=step)
            return {"state": state, "messages": _say(turn, message), "route": "done"}
        if name == "score":
            text = render.progress_text(progress(state, ctx.item, ctx.catalog, now()))
            message = InterviewerMessage(kind="progress", text=text)
            return {"state": state, "messages": _say(turn, message), "route": "done"}
        # hint
        if q is None:
            return _note(turn, state, "There is no open question to give a hint for.")
        point = policies.hint_target(q, ctx.item(q.item_id).rubric)
        if point is None:
            return _note(turn, state, "No hint left: every point here is already on the table.")
        q.hinted.append(point.id)
        state.hints += 1
        message = InterviewerMessage(
            kind="hint",
            text=policies.hint_text(point)
            + "\n\n_A point you cover after a hint earns half credit._",
            step=q.step,
            item_id=q.item_id,
            targets=[point.id],
        )
        return {"state": state, "messages": _say(turn, message), "route": "done"}

    def _note(turn: Turn, state: InterviewState, text: str) -> dict[str, Any]:
        return {
            "state": state,
            "messages": _say(turn, InterviewerMessage(kind="notice", text=text)),
            "route": "done",
        }

    # -- ask mode ------------------------------------------------------------------------------
    def explain_node(turn: Turn) -> dict[str, Any]:
        model = None if isinstance(ctx.model, NoModel) else ctx.model
        try:
            result = explain(turn.text, ctx.retriever, model)
        except AskError as exc:
            return {"messages": _say(turn, InterviewerMessage(kind="error", text=str(exc)))}
        text = f"**{result.item.question}**\n\n{result.answer}" if result.item else result.answer
        if result.fallback_reason:
            text += f"\n\n_Answered from the knowledge base: {result.fallback_reason}_"
        if result.related:
            text += "\n\nRelated: " + " · ".join(i.question for i in result.related)
        message = InterviewerMessage(
            kind="answer",
            text=text,
            item_id=result.item.id if result.item else None,
            citations=_dedupe(result.citations),
        )
        return {"messages": _say(turn, message)}

    # -- answers -------------------------------------------------------------------------------
    def answer(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        q = state.current
        if q is None:
            return _note(turn, state, "This interview is over; start a new one.")
        cap = state.config.time_cap_minutes
        over_cap = bool(cap) and now() - state.started_at > (cap or 0) * 60
        said: list[InterviewerMessage] = []
        if state.case_id:
            case = ctx.catalog.case(state.case_id)
            for a in policies.asked_assumptions(turn.text, case.assumptions):
                again = a.topic in state.revealed
                if not again:
                    state.revealed.append(a.topic)
                said.append(
                    InterviewerMessage(
                        kind="assumption",
                        text=("As I said: " if again else "") + f"**{a.topic}**: {a.text}",
                        step=q.step,
                    )
                )
        # Outside step 1 a message made only of questions asks, it does not answer.
        first_step = q.step is not None and q.step.number == 1
        if policies.only_questions(turn.text) and not first_step:
            if not said:
                said.append(
                    InterviewerMessage(
                        kind="notice",
                        text="Make a reasonable assumption, say it out loud, and go on with "
                        "your answer.",
                        step=q.step,
                    )
                )
            return {"state": state, "messages": _say(turn, *said), "route": "done"}
        if q.step is not None and not q.budget_noted:
            budget = ctx.catalog.framework_step(q.step).time_budget_minutes
            if state.config.mode is Mode.DESIGN and now() - q.started_at > budget * 60:
                q.budget_noted = True
                said.append(
                    InterviewerMessage(
                        kind="notice",
                        text=f"We are past the {budget}-minute budget for this step; "
                        "wrap up, or type `next` to move on.",
                        step=q.step,
                    )
                )
        item = ctx.item(q.item_id)
        grade = ctx.grader.grade(turn.text, item.rubric, q.question)
        q.answers.append(turn.text)
        for v in grade.verdicts:
            q.verdicts[v.point_id] = policies.merge(q.verdicts.get(v.point_id), v)
        open_points = len(policies.missed_points(q, item.rubric))
        shown = _hide_missed(grade)
        said.append(
            InterviewerMessage(
                kind="feedback",
                text=render.feedback_text(shown, final=False, open_points=open_points),
                step=q.step,
                item_id=q.item_id,
                grade=shown,
                open_points=open_points,
            )
        )
        if over_cap:
            state.end_reason = f"Time is up: the interview was capped at {cap} minutes."
            return {"state": state, "messages": _say(turn, *said), "route": "close"}
        return {"state": state, "messages": _say(turn, *said), "route": "decide"}

    def decide(turn: Turn) -> str:
        if turn.route != "decide":
            return turn.route
        state = turn.state
        q = state.current
        assert q is not None
        item = ctx.item(q.item_id)
        drill = state.config.mode is Mode.DRILL
        limit = min(state.config.max_followups, 1) if drill else state.config.max_followups
        if policies.is_covered(q, item.rubric) or q.followups >= limit:
            return "close"
        target = policies.follow_up_target(
            q, item.rubric, state.asked_texts, min_weight=_essential(item) if drill else 0.0
        )
        return "followup" if target else "close"

    def followup(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        q = state.current
        assert q is not None
        item = ctx.item(q.item_id)
        drill = state.config.mode is Mode.DRILL
        found = policies.follow_up_target(
            q, item.rubric, state.asked_texts, min_weight=_essential(item) if drill else 0.0
        )
        assert found is not None
        point, probe = found
        text, note = _phrase(q, point, probe, item.rubric, state.asked_texts)
        q.followups += 1
        q.probed.append(point.id)
        state.asked_texts.append(text)
        state.last_prompt = text
        said = [
            InterviewerMessage(
                kind="followup", text=text, step=q.step, item_id=q.item_id, targets=[point.id]
            )
        ]
        if note:
            said.append(InterviewerMessage(kind="notice", text=note))
        return {"state": state, "messages": _say(turn, *said)}

    def _phrase(
        q: QuestionState,
        point: RubricPoint,
        probe: str,
        points: list[RubricPoint],
        asked: list[str],
    ) -> tuple[str, str | None]:
        """The LLM's follow-up when it is usable, else the authored probe (and why)."""
        if isinstance(ctx.model, NoModel):
            return probe, None
        prompt = render_prompt(
            "follow_up",
            question=q.question,
            answer=q.answers[-1][:3000],
            target=point.text,
            probe=probe,
        )
        try:
            raw = ctx.model.chat([user(prompt)], max_tokens=80)
        except LLMError as exc:
            return probe, f"The LLM did not answer ({exc.reason}); using an authored follow-up."
        text = " ".join(raw.strip().strip('"').split())
        if (
            not text.endswith("?")
            or len(text) > 300
            or policies.leaked_points(text, points)
            or policies.normalise(text) in {policies.normalise(a) for a in asked}
        ):
            return probe, None
        return text, None

    def close(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        said: list[InterviewerMessage] = []
        reviews = list(turn.reviews)
        q = state.current
        if q is not None:
            q.finished_at = now()
            item = ctx.item(q.item_id)
            if not q.answers:
                q.skipped = True
                said.append(InterviewerMessage(kind="notice", text="Skipped.", step=q.step))
            else:
                merged = _merged_grade(q, item, ctx.grader.name)
                said.append(
                    InterviewerMessage(
                        kind="feedback",
                        text=render.feedback_text(merged, final=True, open_points=0),
                        step=q.step,
                        item_id=q.item_id,
                        grade=merged,
                    )
                )
            if state.config.mode is Mode.DRILL:
                said.append(_model_answer(item))
                score = policies.question_score(q, item.rubric)
                reviews.append((item.id, round(score * 5 / 4) if q.answers else 0))
        route = "finish" if state.end_reason or not state.queue else "next"
        return {"state": state, "messages": _say(turn, *said), "reviews": reviews, "route": route}

    def ask_next(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        message = open_question(state, ctx.item(state.queue.pop(0)), now())
        return {"state": state, "messages": _say(turn, message)}

    def finish(turn: Turn) -> dict[str, Any]:
        state = turn.state.model_copy(deep=True)
        state.finished = True
        if state.config.mode is Mode.ASK:
            message = InterviewerMessage(kind="notice", text="Session ended. Good luck!")
            return {"state": state, "messages": _say(turn, message)}
        state.end_reason = state.end_reason or "All questions done."
        card = scorecard(state, ctx.item, ctx.retriever, now())
        message = InterviewerMessage(kind="scorecard", text=render.scorecard_text(card))
        return {"state": state, "messages": _say(turn, message), "scorecard": card}

    graph: Any = StateGraph(Turn)  # Any: its overloads do not cover plain node functions
    graph.add_node("route", route)
    graph.add_node("command", command)
    graph.add_node("explain", explain_node)
    graph.add_node("answer", answer)
    graph.add_node("followup", followup)
    graph.add_node("close", close)
    graph.add_node("ask_next", ask_next)
    graph.add_node("finish", finish)
    graph.add_edge(START, "route")
    graph.add_conditional_edges(
        "route", lambda t: t.route, {"command": "command", "explain": "explain", "answer": "answer"}
    )
    graph.add_conditional_edges("command", lambda t: t.route, {"close": "close", "done": END})
    graph.add_conditional_edges(
        "answer", decide, {"close": "close", "followup": "followup", "done": END}
    )
    graph.add_conditional_edges(
        "close", lambda t: t.route, {"next": "ask_next", "finish": "finish"}
    )
    graph.add_edge("explain", END)
    graph.add_edge("followup", END)
    graph.add_edge("ask_next", END)
    graph.add_edge("finish", END)
    return graph.compile()


def _essential(item: QuestionItem) -> float:
    return min(ESSENTIAL_WEIGHT, max(p.weight for p in item.rubric))


def _hide_missed(grade: Grade) -> Grade:
    """While follow-ups may still come, the grade shown does not list what was missed."""
    fb = grade.feedback
    hidden = fb.model_copy(update={"missed": []})
    return grade.model_copy(update={"feedback": hidden})


def _merged_grade(q: QuestionState, item: QuestionItem, grader: str) -> Grade:
    """The question's grade over all its answers, hint penalties applied."""
    verdicts = []
    halved = False
    for p in item.rubric:
        v = q.verdicts.get(p.id)
        if v is None:
            continue
        status = policies.effective_status(q, p.id)
        if status is not v.status:
            halved = True
            v = v.model_copy(update={"status": status, "note": "covered after a hint: half credit"})
        verdicts.append(v)
    warnings = ["Points covered after a hint earn half credit."] if halved else []
    return assemble_grade(verdicts, item.rubric, grader, warnings=warnings)


def _model_answer(item: QuestionItem) -> InterviewerMessage:
    text = f"**Model answer.** {item.model_answer}" if item.model_answer else "No model answer."
    return InterviewerMessage(
        kind="model-answer",
        text=text,
        step=item.step,
        item_id=item.id,
        citations=_dedupe(item.sources),
    )


def _dedupe(citations: list[Citation]) -> list[Citation]:
    seen: set[str] = set()
    out = []
    for c in citations:
        if c.label() not in seen:
            seen.add(c.label())
            out.append(c)
    return out

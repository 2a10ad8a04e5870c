"""The interview's state and what the interviewer says, as typed values.

`InterviewState` is everything needed to continue an interview: it is saved
to SQLite after every turn, so a new process resumes exactly where the last
one stopped. `Reply` is what one candidate message produces; front ends only
render it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.grading.models import Grade, PointVerdict, Status
from knowledge.models import Citation
from knowledge.schema import Difficulty, Step


class Mode(StrEnum):
    DESIGN = "design"
    DRILL = "drill"
    ASK = "ask"


class Plain(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InterviewConfig(Plain):
    """What the candidate chose when starting; stored with the session."""

    mode: Mode = Mode.DESIGN
    case_id: str | None = None  # design: None picks one at random (by difficulty)
    topic: str | None = None  # drill: free text ("drift") matched against the concepts
    step: Step | None = None  # drill: only concepts of this framework step
    item_ids: list[str] | None = None  # drill: exactly these concepts, in this order
    difficulty: Difficulty | None = None
    max_followups: int = Field(2, ge=0, le=5)
    questions: int = Field(5, ge=1, le=30)  # drill: how many concept questions
    time_cap_minutes: int | None = Field(45, ge=5, le=240)
    seed: int | None = None  # makes the random choices reproducible


class QuestionState(Plain):
    """One question being asked (a design step, or a drill concept) and what it earned so far."""

    item_id: str
    step: Step | None = None
    question: str
    point_ids: list[str]
    # Best status each point has reached over the answers to this question.
    verdicts: dict[str, PointVerdict] = Field(default_factory=dict)
    answers: list[str] = Field(default_factory=list)
    followups: int = 0
    probed: list[str] = Field(default_factory=list)  # point ids a follow-up aimed at
    hinted: list[str] = Field(default_factory=list)  # point ids a hint nudged toward
    started_at: float = 0.0
    finished_at: float | None = None
    skipped: bool = False
    budget_noted: bool = False

    def status(self, point_id: str) -> Status:
        v = self.verdicts.get(point_id)
        return v.status if v else Status.MISSED


class InterviewState(Plain):
    config: InterviewConfig
    title: str = ""  # "Design: Video recommendation", "Drill: drift", ...
    case_id: str | None = None
    queue: list[str] = Field(default_factory=list)  # item ids still to ask, in order
    questions: list[QuestionState] = Field(default_factory=list)  # asked so far, last = current
    revealed: list[str] = Field(default_factory=list)  # assumption topics told to the candidate
    asked_texts: list[str] = Field(default_factory=list)  # every question text, to never repeat
    last_prompt: str = ""  # what `repeat` says again
    hints: int = 0
    started_at: float = 0.0
    finished: bool = False
    end_reason: str | None = None

    @property
    def current(self) -> QuestionState | None:
        if self.finished or not self.questions:
            return None
        q = self.questions[-1]
        return None if q.finished_at is not None else q


MessageKind = Literal[
    "prompt",  # the case or drill introduction
    "question",  # an opening question (design step or concept)
    "followup",  # a probe aimed at a missed point
    "assumption",  # a fact about the case revealed because the candidate asked
    "feedback",  # the grade of an answer
    "model-answer",  # drill: the authored answer and its sources
    "hint",
    "progress",  # the `score` command
    "answer",  # ask mode: the explanation
    "notice",  # moving on, time warnings, fallbacks
    "scorecard",
    "error",  # bad input: nothing was recorded
]


class InterviewerMessage(Plain):
    kind: MessageKind
    text: str  # Markdown
    step: Step | None = None
    item_id: str | None = None  # the question this message is about
    grade: Grade | None = None
    citations: list[Citation] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)  # follow-up / hint: the point ids aimed at
    open_points: int | None = None  # feedback before a question closes: points still missed


class StepProgress(Plain):
    step: Step
    label: str
    status: Literal["pending", "current", "done", "skipped"]
    coverage: float = 0.0  # weighted share of the step's rubric covered, 0-1
    score: float | None = None  # 0-4, None until answered
    budget_minutes: int
    elapsed_s: float = 0.0
    followups: int = 0
    hints: int = 0


class Progress(Plain):
    mode: Mode
    steps: list[StepProgress] = Field(default_factory=list)  # design only
    current_step: Step | None = None
    questions_asked: int = 0
    questions_total: int = 0
    hints: int = 0
    elapsed_s: float = 0.0
    time_cap_s: float | None = None
    finished: bool = False


class PointSummary(Plain):
    point_id: str
    text: str
    step: Step | None = None
    status: Status
    weight: float
    evidence: str | None = None
    citation: Citation | None = None


class Study(Plain):
    """A corpus item worth reading next, and why."""

    item_id: str
    question: str
    reason: str


class StepScore(Plain):
    step: Step | None
    label: str
    item_id: str
    score: float
    coverage: float
    hints: int = 0
    skipped: bool = False


class Scorecard(Plain):
    mode: Mode
    title: str
    overall: float  # 0-4: mean of the question scores
    steps: list[StepScore]
    strongest: list[PointSummary]
    weakest: list[PointSummary]
    study_next: list[Study]
    hints: int
    elapsed_s: float
    end_reason: str | None = None
    notes: list[str] = Field(default_factory=list)  # how the overall score was computed


class Reply(Plain):
    messages: list[InterviewerMessage]
    progress: Progress
    done: bool = False
    scorecard: Scorecard | None = None
    recorded: bool = True  # False when the input was rejected and nothing was stored

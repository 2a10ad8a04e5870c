"""The interviewer's decisions as small pure functions, so each can be tested on its own.

What counts as a command, which assumption a clarifying question asks
about, which missed point a follow-up aims at, when a question is done,
whether a sentence would give a rubric point away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.grading.models import CREDIT, PointVerdict, Status
from bot.grading.text import content_words
from bot.interviewer.models import QuestionState
from knowledge.models import RubricPoint
from knowledge.schema import Assumption

COMMANDS = {
    "hint": "hint",
    "skip": "skip",
    "next": "skip",
    "next step": "skip",
    "move on": "skip",
    "pass": "skip",
    "repeat": "repeat",
    "again": "repeat",
    "score": "score",
    "progress": "score",
    "end": "end",
    "quit": "end",
    "stop": "end",
    "exit": "end",
    "end interview": "end",
}

# Above this size a message is refused rather than graded: it is almost certainly a paste
# accident, and storing it would bloat the session file. The grader's own, lower limit
# (`bot.grading.text.MAX_ANSWER_CHARS`) truncates long but plausible answers, and says so.
MAX_MESSAGE_CHARS = 20_000

# A question is "covered" once this weighted share of its rubric is credited.
COVERED_AT = 0.85


def parse_command(text: str) -> str | None:
    """The command a whole message spells, ignoring case and punctuation, or None."""
    key = re.sub(r"[^a-z ]+", "", text.lower()).strip()
    key = re.sub(r"\s+", " ", key)
    return COMMANDS.get(key)


_QUESTION_START = re.compile(
    r"^(?:what|how|who|when|where|which|why|is|are|do|does|did|can|could|should|will|would|"
    r"may|might|any|roughly|approximately)\b",
    re.I,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def question_sentences(text: str) -> list[str]:
    return [s for s in sentences(text) if s.endswith("?") or _QUESTION_START.match(s)]


def only_questions(text: str) -> bool:
    parts = sentences(text)
    return bool(parts) and len(question_sentences(text)) == len(parts)


def asked_assumptions(text: str, assumptions: Sequence[Assumption]) -> list[Assumption]:
    """Assumptions a clarifying question in `text` asks about (keyword or topic match)."""
    asked = " ".join(question_sentences(text)).lower()
    if not asked:
        return []
    found = []
    for a in assumptions:
        cues = [a.topic.lower(), *(k.lower() for k in a.keywords)]
        if any(re.search(rf"\b{re.escape(cue)}", asked) for cue in cues if cue):
            found.append(a)
    return found


def merge(previous: PointVerdict | None, new: PointVerdict) -> PointVerdict:
    """A point keeps the best status any answer to the question earned."""
    if previous is None:
        return new
    if CREDIT[new.status] > CREDIT[previous.status]:
        return new
    if CREDIT[new.status] == CREDIT[previous.status] and new.confidence > previous.confidence:
        return new if new.status is not Status.MISSED else previous
    return previous


def effective_status(q: QuestionState, point_id: str) -> Status:
    """Credit earned after a hint toward the point is halved: covered counts as partial."""
    status = q.status(point_id)
    if point_id in q.hinted and status is Status.COVERED:
        return Status.PARTIAL
    return status


def coverage(q: QuestionState, points: Sequence[RubricPoint]) -> float:
    total = sum(p.weight for p in points)
    if total <= 0:
        return 0.0
    earned = sum(p.weight * CREDIT[effective_status(q, p.id)] for p in points)
    return earned / total


def question_score(q: QuestionState, points: Sequence[RubricPoint]) -> float:
    return round(4.0 * coverage(q, points), 2)


def is_covered(q: QuestionState, points: Sequence[RubricPoint]) -> bool:
    raw = sum(p.weight * CREDIT[q.status(p.id)] for p in points)
    total = sum(p.weight for p in points)
    return total > 0 and raw / total >= COVERED_AT


def missed_points(
    q: QuestionState, points: Sequence[RubricPoint], *, exclude: Iterable[str] = ()
) -> list[RubricPoint]:
    """Points no answer has touched, highest weight first; ties go to the surest miss."""
    skip = set(exclude)
    candidates = [p for p in points if p.id not in skip and q.status(p.id) is Status.MISSED]

    def certainty(p: RubricPoint) -> float:
        v = q.verdicts.get(p.id)
        return v.confidence if v else 1.0

    return sorted(candidates, key=lambda p: (-p.weight, -certainty(p), p.id))


# A follow-up aims only at a point the grader is this sure was missed: probing a point the
# candidate did make reads as not listening. Chosen on the dev split of the labelled answers,
# where the drill's follow-ups then never hit a point the labels call covered.
FOLLOW_UP_CONFIDENCE = 0.9


def follow_up_target(
    q: QuestionState,
    points: Sequence[RubricPoint],
    asked_texts: Sequence[str],
    *,
    min_weight: float = 0.0,
    min_confidence: float = FOLLOW_UP_CONFIDENCE,
) -> tuple[RubricPoint, str] | None:
    """The highest-weight surely-missed point not yet probed, with a probe not yet asked."""
    asked = {normalise(t) for t in asked_texts}
    for point in missed_points(q, points, exclude=q.probed):
        verdict = q.verdicts.get(point.id)
        if point.weight < min_weight or (verdict and verdict.confidence < min_confidence):
            continue
        probe = next((p for p in point.probes if normalise(p) not in asked), None)
        if probe is not None:
            return point, probe
    return None


def hint_target(q: QuestionState, points: Sequence[RubricPoint]) -> RubricPoint | None:
    """The point a hint nudges toward: the one just probed if still missed, else the top miss."""
    open_points = missed_points(q, points, exclude=q.hinted)
    if not open_points:
        return None
    probed = [p for p in open_points if p.id in q.probed]
    return probed[-1] if probed else open_points[0]


def hint_text(point: RubricPoint) -> str:
    """A nudge toward the point's topic that leaves the reasoning to the candidate."""
    if point.keywords:
        topics = " and ".join(point.keywords[:2])
        return f"Think about **{topics}**: how does it bear on this part of the design?"
    words = content_words(point.text)[:3]
    return f"Think about **{' '.join(words)}**, and why it matters here."


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# A sentence that shares this much of a point's content words states the point.
LEAK_OVERLAP = 0.6


def leaked_points(text: str, points: Sequence[RubricPoint]) -> list[str]:
    """Ids of the points whose wording `text` gives away."""
    said = set(content_words(text))
    leaked = []
    for p in points:
        words = set(content_words(p.text))
        if len(words) >= 4 and len(words & said) / len(words) >= LEAK_OVERLAP:
            leaked.append(p.id)
    return leaked

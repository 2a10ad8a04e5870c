"""The embedded grader: MiniLM similarity between answer spans and rubric points, plus cues.

No network, no API key. For each rubric point it measures how well the best
span of the answer matches it (semantically and lexically), whether that span
is really about this point rather than another one, and whether it states the
point's opposite: word cues (negation out of step with the point, swapped
opposites such as L1/L2 or higher/lower, dismissive overclaiming, closeness to
a negated copy of the point), the agreement cross-encoder (`agreement.py`),
which reads the point and each of its closest spans together and says whether
the span agrees, states an error, or is about something else, and the point's
known misconceptions (authored in the corpus): a span that the cross-encoder
reads as saying one of them states an error. Two small
logistic models, fit on the dev split of the project's labelled dataset
(`calibration/embedded.v8.json`), turn these into the probability that the
point is covered and that it is contradicted; a contradicted point earns
nothing and costs a penalty (`scoring.py`), because a confidently stated error
is worse than silence. Answer-level gates come first: empty, gibberish, another
language, a bare list of terms, text addressed to the grader.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.grading.agreement import AGREE, CONTRADICT, AgreementModel, shared_model
from bot.grading.models import Flag, Grade, PointVerdict, Status
from bot.grading.scoring import assemble_grade
from bot.grading.text import (
    MAX_ANSWER_CHARS,
    Span,
    content_words,
    dismissals,
    language_issue,
    looks_like_term_list,
    manipulation_spans,
    negated,
    negations,
    opposite_swaps,
    repeats_question,
    spans,
    without_fillers,
)
from knowledge.models import RubricPoint

CALIBRATION = Path(__file__).resolve().parent / "calibration" / "embedded.v8.json"

FEATURES = (
    "sim_max",
    "sim_answer",
    "lex_answer",
    "lex_span",
    "keywords",
    "margin",
    "is_best_point",
    "negation_mismatch",
    "relative_sim",
    "log_words",
    "mean_sim",
    "breadth",
    "opposites",
    "dismissals",
    "extra_negations",
    "contrast",
    "agree",
    "disagree",
    "disagree_near",
    "misconception",
    "misconception_margin",
)
SIM = FEATURES.index("sim_max")
MISCONCEPTION = FEATURES.index("misconception")
NEAR_SPANS = 3
"""The agreement model reads a point against its closest spans, not only the closest one: an
error often sits in the sentence after the one that names the topic."""
# What says whether the best span states the point's opposite: the cues, alone and scaled by
# how closely the span is about the point (a dismissal elsewhere in the answer means little).
CONTRA_CUES = ("negation_mismatch", "opposites", "dismissals", "extra_negations")
CONTRA_FEATURES = (
    "sim_max",
    "lex_span",
    "margin",
    "is_best_point",
    *CONTRA_CUES,
    "contrast",
    *(f"sim_x_{cue}" for cue in CONTRA_CUES),
    "agree",
    "disagree",
    "disagree_near",
    "misconception",
    "misconception_margin",
)
MISCONCEPTION_SPANS = 2
"""Each known misconception of a point is read against the answer spans closest to it."""


def contra_inputs(features: Sequence[float]) -> list[float]:
    """The contradiction model's inputs, derived from one feature row."""
    row = dict(zip(FEATURES, features, strict=True))
    return [
        float(row["sim_max"] * row[name[len("sim_x_") :]])
        if name.startswith("sim_x_")
        else float(row[name])
        for name in CONTRA_FEATURES
    ]


Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Calibration:
    """Two small logistic models: is the point covered, and does the best span contradict it."""

    coef: tuple[float, ...]
    intercept: float
    covered_at: float
    partial_at: float
    contra_coef: tuple[float, ...] = (0.0,) * len(CONTRA_FEATURES)
    contra_intercept: float = -10.0
    contra_at: float = 0.5
    version: str = "default"

    @classmethod
    def load(cls, path: Path = CALIBRATION) -> Calibration:
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES or tuple(data["contra_features"]) != CONTRA_FEATURES:
            raise ValueError(
                f"{path} was fit on other features; refit it (evals/fit_calibration.py)"
            )
        return cls(
            coef=tuple(data["coef"]),
            intercept=data["intercept"],
            covered_at=data["covered_at"],
            partial_at=data["partial_at"],
            contra_coef=tuple(data["contra_coef"]),
            contra_intercept=data["contra_intercept"],
            contra_at=data["contra_at"],
            version=str(data["version"]),
        )

    def probability(self, features: Sequence[float]) -> float:
        return _logistic(self.intercept, self.coef, features)

    def contradiction(self, features: Sequence[float]) -> float:
        """Probability that the best span states the opposite of the point."""
        return _logistic(self.contra_intercept, self.contra_coef, contra_inputs(features))

    def status(self, covered: float, contradicted: float) -> Status:
        """The verdict for a point from its two probabilities: a stated error earns nothing."""
        if contradicted >= self.contra_at or covered < self.partial_at:
            return Status.MISSED
        return Status.COVERED if covered >= self.covered_at else Status.PARTIAL


def _logistic(intercept: float, coef: Sequence[float], features: Sequence[float]) -> float:
    z = intercept + sum(c * f for c, f in zip(coef, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


NO_SUPPORT = 0.2
"""Below this similarity a span is about something else, and no answer's breadth makes it
evidence for the point. The lowest similarity the dev split credits, in its labels or in the
grader's verdicts, is 0.225 (a paraphrase); an off-topic answer among the fresh dev answers
(k-means, asked about ad clicks) earned 1.57 on three partial credits at 0.22, 0.14 and 0.07,
which counted as a broad answer."""
WEAK_SUPPORT = 0.45
"""Below this similarity between a point and its best span, credit stands only as part of a
broad answer (BROAD_CREDIT points or more). A paraphrase that rewords a whole answer reaches
every point at low similarity (on dev, credited points as low as 0.22, always with three or
more credited), while an off-topic answer brushes a point or two by chance."""
BROAD_CREDIT = 3


def standing_credit(statuses: Sequence[Status], similarities: Sequence[float]) -> list[Status]:
    """The verdicts, less credit without support and weakly supported credit in an answer that
    is not broad."""
    out = [
        Status.MISSED if similarity < NO_SUPPORT else status
        for status, similarity in zip(statuses, similarities, strict=True)
    ]
    credited = [j for j, s in enumerate(out) if s is not Status.MISSED]
    if len(credited) < min(BROAD_CREDIT, len(out)):
        for j in credited:
            if similarities[j] < WEAK_SUPPORT:
                out[j] = Status.MISSED
    return out


# Used only when no fitted file is present: hand-set, deliberately conservative.
DEFAULT_CALIBRATION = Calibration(
    coef=(
        *(9.0, 2.0, 2.0, 1.5, 1.0, 4.0, 0.5, -1.5, 3.0, 0.0, 0.0, 0.0, -1.0, -0.5, -0.5, 0.0),
        *(2.0, -2.0, 0.0),  # agree, disagree, disagree_near
        *(-2.0, 0.0),  # misconception, misconception_margin
    ),
    intercept=-7.0,
    covered_at=0.6,
    partial_at=0.35,
)


def _default_embed(texts: list[str]) -> np.ndarray:
    from knowledge.embeddings import embed

    return embed(texts)


@dataclass
class AnswerView:
    """An answer prepared for grading: what is graded, and why some of it is not."""

    graded: str
    spans: list[Span]
    flags: list[Flag]
    warnings: list[str]


def prepare(answer: str, question: str = "") -> AnswerView:
    flags: list[Flag] = []
    warnings: list[str] = []
    text = answer or ""
    if not text.strip():
        return AnswerView("", [], ["empty"], ["The answer is empty."])
    if len(text) > MAX_ANSWER_CHARS:
        text = text[:MAX_ANSWER_CHARS]
        flags.append("truncated")
        warnings.append(
            f"The answer is {len(answer)} characters long; only the first {MAX_ANSWER_CHARS} "
            "were graded."
        )
    issue = language_issue(text)
    if issue == "non-english":
        flags.append("non-english")
        warnings.append("The answer does not look like English; Panelist grades English answers.")
        return AnswerView(text, [], flags, warnings)
    if issue == "gibberish":
        flags.append("gibberish")
        warnings.append("The answer does not read as words; nothing could be credited.")
        return AnswerView(text, [], flags, warnings)
    blocked = manipulation_spans(text)
    if blocked:
        flags.append("manipulation-attempt")
        warnings.append(
            "Parts of the answer address the grader instead of the question; they earn no credit."
        )
    usable = [
        s for s in spans(text) if not any(b.start < s.end and s.start < b.end for b in blocked)
    ]
    if looks_like_term_list(text):
        flags.append("term-list")
        warnings.append(
            "The answer lists terms without explaining them; points need the idea stated."
        )
        usable = []
    elif question and repeats_question(text, question):
        flags.append("repeats-question")
        warnings.append("The answer only restates the question.")
        usable = []
    return AnswerView(text, usable, flags, warnings)


class EmbeddedGrader:
    """Grades an answer against rubric points with the bundled embedding model."""

    name = "embedded"

    def __init__(
        self,
        calibration: Calibration | None = None,
        embed: Embed | None = None,
        agreement: AgreementModel | None = None,
    ) -> None:
        if calibration is None:
            calibration = Calibration.load() if CALIBRATION.is_file() else DEFAULT_CALIBRATION
        self.calibration = calibration
        self._embed = embed or _default_embed
        self._agreement = agreement
        self._point_cache: dict[str, np.ndarray] = {}

    # -- embeddings -------------------------------------------------------------------------
    def _cached(self, texts: list[str]) -> np.ndarray:
        """Rubric texts (and their negations) are embedded once per grader."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._point_cache))
        if missing:
            for text, vec in zip(missing, self._embed(missing), strict=True):
                self._point_cache[text] = vec
        return np.stack([self._point_cache[t] for t in texts])

    def _point_vectors(self, points: Sequence[RubricPoint]) -> np.ndarray:
        return self._cached([p.text for p in points])

    def _agreement_with(
        self, points: Sequence[RubricPoint], spans: Sequence[str], sims: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
        """Per point: P(agree) and P(contradict) of its closest span, the highest P(contradict)
        among its NEAR_SPANS closest, and which span that is."""
        model = self._agreement or shared_model()
        order = np.argsort(-sims, axis=0)[:NEAR_SPANS]  # near spans x points
        pairs = [(p.text, spans[int(i)]) for j, p in enumerate(points) for i in order[:, j]]
        probs = model.probabilities(pairs).reshape(len(points), len(order), 3)
        near = probs[:, :, CONTRADICT].argmax(axis=1)
        return (
            probs[:, 0, AGREE],
            probs[:, 0, CONTRADICT],
            probs[:, :, CONTRADICT].max(axis=1),
            [int(order[k, j]) for j, k in enumerate(near)],
        )

    def _misconceptions_in(
        self,
        points: Sequence[RubricPoint],
        p_vecs: np.ndarray,
        spans: Sequence[str],
        span_vecs: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per point: how surely some span says one of the point's known misconceptions (the
        agreement model's P(agree) of misconception and span), and how much closer that span is
        to the misconception than to the point.

        A fluent error embeds almost where the point does; next to a written-down wrong version
        of the point, the same span reads as a restatement of the error."""
        n = len(points)
        owners = [(j, m) for j, p in enumerate(points) for m in p.misconceptions]
        said, margin = np.full(n, -1.0), np.zeros(n)  # -1: no misconception read yet
        if not owners:
            return np.zeros(n), margin
        m_vecs = self._cached([m for _, m in owners])
        m_sims = span_vecs @ m_vecs.T  # spans x misconceptions
        order = np.argsort(-m_sims, axis=0)[:MISCONCEPTION_SPANS]
        pairs = [(m, spans[int(i)]) for k, (_, m) in enumerate(owners) for i in order[:, k]]
        model = self._agreement or shared_model()
        agree = model.probabilities(pairs)[:, AGREE].reshape(len(owners), len(order))
        for k, (j, _) in enumerate(owners):
            best = int(agree[k].argmax())
            i = int(order[best, k])
            if agree[k, best] > said[j]:
                said[j] = float(agree[k, best])
                margin[j] = 10.0 * float(m_sims[i, k] - span_vecs[i] @ p_vecs[j])
        return np.maximum(said, 0.0), margin

    # -- features ---------------------------------------------------------------------------
    def features(
        self, view: AnswerView, points: Sequence[RubricPoint]
    ) -> tuple[np.ndarray, list[Span | None], list[Span | None]]:
        """One feature row per point, the span that best supports each point, and the span
        most likely to state its opposite."""
        n = len(points)
        if not view.spans or n == 0:
            return np.zeros((n, len(FEATURES))), [None] * n, [None] * n
        p_vecs = self._point_vectors(points)
        neg_vecs = self._cached([negated(p.text) for p in points])
        read = [without_fillers(s.text) for s in view.spans]
        vecs = self._embed([*read, without_fillers(view.graded)])
        span_vecs, answer_vec = vecs[:-1], vecs[-1]
        sims = span_vecs @ p_vecs.T  # spans x points
        neg_sims = span_vecs @ neg_vecs.T
        answer_sims = p_vecs @ answer_vec
        best_idx = sims.argmax(axis=0)
        sim_max = sims.max(axis=0)
        # Share of points that are some span's closest point: a paraphrase that walks
        # through every point reaches all of them even when no similarity is high.
        breadth = len(set(sims.argmax(axis=1).tolist())) / n
        answer_words = set(content_words(view.graded))
        answer_lower = view.graded.lower()
        words = len(view.graded.split())
        agree, disagree, disagree_near, disputing = self._agreement_with(points, read, sims)
        misconception, misconception_margin = self._misconceptions_in(
            points, p_vecs, read, span_vecs
        )
        rows: list[list[float]] = []
        best_spans: list[Span | None] = []
        for j, point in enumerate(points):
            i = int(best_idx[j])
            span = view.spans[i]
            span_row = sims[i]
            others = np.delete(span_row, j)
            margin = float(span_row[j] - others.max()) if others.size else 0.0
            point_words = set(content_words(point.text))
            lex_answer = len(point_words & answer_words) / len(point_words) if point_words else 0.0
            lex_span = (
                len(point_words & set(content_words(span.text))) / len(point_words)
                if point_words
                else 0.0
            )
            kws = [k.lower() for k in point.keywords if k.strip()]
            keywords = sum(k in answer_lower for k in kws) / len(kws) if kws else lex_answer
            span_neg, point_neg = negations(span.text), negations(point.text)
            rows.append(
                [
                    float(sim_max[j]),
                    float(answer_sims[j]),
                    lex_answer,
                    lex_span,
                    keywords,
                    margin,
                    float(int(np.argmax(span_row)) == j),
                    float((span_neg > 0) != (point_neg > 0)),
                    float(sim_max[j] - sim_max.mean()),
                    math.log1p(words),
                    float(sim_max.mean()),
                    breadth,
                    float(min(2, opposite_swaps(span.text, point.text))),
                    float(min(3, max(0, dismissals(span.text) - dismissals(point.text)))),
                    float(min(3, max(0, span_neg - point_neg))),
                    10.0 * float(neg_sims[i, j] - sims[i, j]),
                    float(agree[j]),
                    float(disagree[j]),
                    float(disagree_near[j]),
                    float(misconception[j]),
                    float(misconception_margin[j]),
                ]
            )
            best_spans.append(span)
        # The quote against a point stays the span the agreement model reads as contradicting
        # it: P(agree) with a misconception is high for any span on its topic, right or wrong.
        return np.asarray(rows), best_spans, [view.spans[k] for k in disputing]

    # -- grading ----------------------------------------------------------------------------
    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade:
        view = prepare(answer, question)
        feats, best, disputing = self.features(view, points)
        cal = self.calibration
        probs = [
            (cal.probability(row), cal.contradiction(row)) if span is not None else (0.0, 0.0)
            for row, span in zip(feats, best, strict=True)
        ]
        raw = [cal.status(p, c) for p, c in probs]
        statuses = standing_credit(raw, [float(row[SIM]) for row in feats])
        verdicts = []
        for point, span, against, row, (p, c), status, before in zip(
            points, best, disputing, feats, probs, statuses, raw, strict=True
        ):
            if span is None or against is None:
                verdicts.append(
                    PointVerdict(point_id=point.id, status=Status.MISSED, confidence=0.95)
                )
                continue
            contradicted = c >= cal.contra_at
            verdicts.append(
                PointVerdict(
                    point_id=point.id,
                    status=status,
                    evidence=against.text
                    if contradicted
                    else span.text
                    if status is not Status.MISSED
                    else None,
                    confidence=round(max(c, 1 - p) if contradicted else max(p, 1 - p), 3),
                    contradicted=contradicted,
                    note=f"p={p:.2f}, contradiction={c:.2f}, similarity={row[SIM]:.2f}, "
                    f"misconception={row[MISCONCEPTION]:.2f}"
                    + ("; a lone weak match is not credited" if status is not before else ""),
                )
            )
        flags, warnings = list(view.flags), list(view.warnings)
        if any(v.contradicted for v in verdicts):
            flags.append("contradiction")
            warnings.append(
                "Part of the answer states the opposite of a rubric point; each such error "
                "costs credit."
            )
        return assemble_grade(
            verdicts,
            points,
            self.name,
            flags=flags,
            warnings=warnings,
            chars_graded=len(view.graded),
        )

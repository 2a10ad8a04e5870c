"""The embedded grader: MiniLM similarity between answer spans and rubric points, plus cues.

No network, no API key. For each rubric point it measures how well the best
span of the answer matches it (semantically and lexically), whether that span
is really about this point rather than another one, and whether it negates
it; a small logistic model, fit on the dev split of the project's labelled
dataset (`calibration/embedded.v1.json`), turns these into a probability that
the point is covered. Answer-level gates come first: empty, gibberish,
another language, a bare list of terms, text addressed to the grader.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.grading.models import Flag, Grade, PointVerdict, Status
from bot.grading.scoring import assemble_grade
from bot.grading.text import (
    MAX_ANSWER_CHARS,
    Span,
    content_words,
    language_issue,
    looks_like_term_list,
    manipulation_spans,
    negations,
    repeats_question,
    spans,
)
from knowledge.models import RubricPoint

CALIBRATION = Path(__file__).resolve().parent / "calibration" / "embedded.v1.json"

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
)

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Calibration:
    coef: tuple[float, ...]
    intercept: float
    covered_at: float
    partial_at: float
    version: str = "default"

    @classmethod
    def load(cls, path: Path = CALIBRATION) -> Calibration:
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"{path} was fit on other features; refit it (evals/fit_calibration.py)"
            )
        return cls(
            coef=tuple(data["coef"]),
            intercept=data["intercept"],
            covered_at=data["covered_at"],
            partial_at=data["partial_at"],
            version=str(data["version"]),
        )

    def probability(self, features: Sequence[float]) -> float:
        z = self.intercept + sum(c * f for c, f in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


# Used only when no fitted file is present: hand-set, deliberately conservative.
DEFAULT_CALIBRATION = Calibration(
    coef=(9.0, 2.0, 2.0, 1.5, 1.0, 4.0, 0.5, -1.5, 3.0, 0.0),
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

    def __init__(self, calibration: Calibration | None = None, embed: Embed | None = None) -> None:
        if calibration is None:
            calibration = Calibration.load() if CALIBRATION.is_file() else DEFAULT_CALIBRATION
        self.calibration = calibration
        self._embed = embed or _default_embed
        self._point_cache: dict[str, np.ndarray] = {}

    # -- embeddings -------------------------------------------------------------------------
    def _point_vectors(self, points: Sequence[RubricPoint]) -> np.ndarray:
        missing = [p.text for p in points if p.text not in self._point_cache]
        if missing:
            for text, vec in zip(missing, self._embed(missing), strict=True):
                self._point_cache[text] = vec
        return np.stack([self._point_cache[p.text] for p in points])

    # -- features ---------------------------------------------------------------------------
    def features(
        self, view: AnswerView, points: Sequence[RubricPoint]
    ) -> tuple[np.ndarray, list[Span | None]]:
        """One feature row per point, and the span that best supports each point."""
        n = len(points)
        if not view.spans or n == 0:
            return np.zeros((n, len(FEATURES))), [None] * n
        p_vecs = self._point_vectors(points)
        texts = [s.text for s in view.spans] + [view.graded]
        vecs = self._embed(texts)
        span_vecs, answer_vec = vecs[:-1], vecs[-1]
        sims = span_vecs @ p_vecs.T  # spans x points
        answer_sims = p_vecs @ answer_vec
        best_idx = sims.argmax(axis=0)
        sim_max = sims.max(axis=0)
        answer_words = set(content_words(view.graded))
        answer_lower = view.graded.lower()
        words = len(view.graded.split())
        rows: list[list[float]] = []
        best_spans: list[Span | None] = []
        for j, point in enumerate(points):
            span = view.spans[int(best_idx[j])]
            span_row = sims[int(best_idx[j])]
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
            negation_mismatch = float((negations(span.text) > 0) != (negations(point.text) > 0))
            rows.append(
                [
                    float(sim_max[j]),
                    float(answer_sims[j]),
                    lex_answer,
                    lex_span,
                    keywords,
                    margin,
                    float(int(np.argmax(span_row)) == j),
                    negation_mismatch,
                    float(sim_max[j] - sim_max.mean()),
                    math.log1p(words),
                ]
            )
            best_spans.append(span)
        return np.asarray(rows), best_spans

    # -- grading ----------------------------------------------------------------------------
    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade:
        view = prepare(answer, question)
        feats, best = self.features(view, points)
        verdicts = []
        for j, point in enumerate(points):
            if best[j] is None:
                verdicts.append(
                    PointVerdict(point_id=point.id, status=Status.MISSED, confidence=0.95)
                )
                continue
            p = self.calibration.probability(feats[j])
            if p >= self.calibration.covered_at:
                status = Status.COVERED
            elif p >= self.calibration.partial_at:
                status = Status.PARTIAL
            else:
                status = Status.MISSED
            span = best[j]
            verdicts.append(
                PointVerdict(
                    point_id=point.id,
                    status=status,
                    evidence=span.text if status is not Status.MISSED and span else None,
                    confidence=round(max(p, 1 - p), 3),
                    note=f"p={p:.2f}, similarity={feats[j][0]:.2f}",
                )
            )
        return assemble_grade(
            verdicts,
            points,
            self.name,
            flags=view.flags,
            warnings=view.warnings,
            chars_graded=len(view.graded),
        )

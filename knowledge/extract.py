"""Turn Q&A-shaped documents into question items with rubric points.

A document written as questions followed by bullet answers (an interview
cheat-sheet, design notes) becomes one item per question: each answer
bullet is a rubric point, and every point cites the passage it came from.
"""

from __future__ import annotations

import hashlib
import re

from knowledge.chunking import Block, is_bullet, split_blocks
from knowledge.models import Citation, QuestionItem, RubricPoint
from knowledge.schema import Step

MIN_POINTS = 2
MAX_POINTS = 8
MIN_POINT_WORDS = 3

_BULLET_PREFIX = re.compile(r"^\s*(?:[-*+•◦▪●‣–]|\d{1,3}[.)]|[a-z][.)])\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")

# Cue words for placing an extracted question in a framework step; the step
# with the most cue hits wins, ties go to the earlier step.
_STEP_CUES: dict[Step, tuple[str, ...]] = {
    Step.REQUIREMENTS: ("requirement", "clarif", "business objective", "constraint", "scope"),
    Step.FRAMING: ("frame", "framing", "ml objective", "ml task", "formulat", "problem type"),
    Step.DATA: (
        "data",
        "feature",
        "label",
        "missing",
        "imbalance",
        "privacy",
        "preprocess",
        "etl",
        "pipeline",
        "quality",
        "sources",
        "augment",
    ),
    Step.MODELING: (
        "model selection",
        "train",
        "architecture",
        "algorithm",
        "transfer learning",
        "hyperparameter",
        "overfit",
        "loss",
        "ensemble",
        "fine-tun",
    ),
    Step.EVALUATION: (
        "evaluat",
        "metric",
        "precision",
        "recall",
        "accuracy",
        "validation",
        "fairness",
        "bias",
        "explainab",
        "interpretab",
    ),
    Step.DEPLOYMENT: (
        "deploy",
        "serving",
        "inference",
        "latency",
        "scal",
        "a/b",
        "canary",
        "shadow",
        "rollout",
        "compression",
        "quantiz",
        "real-time",
        "batch",
    ),
    Step.MONITORING: (
        "monitor",
        "drift",
        "retrain",
        "alert",
        "degrad",
        "ci/cd",
        "version",
        "reproducib",
        "logging",
        "feedback loop",
        "debug",
    ),
}


def guess_step(text: str) -> Step:
    lowered = text.lower()
    scores = {step: sum(lowered.count(cue) for cue in cues) for step, cues in _STEP_CUES.items()}
    best = max(scores.values())
    return next(step for step in Step if scores[step] == best) if best else Step.DEPLOYMENT


def _clean_point(line: str) -> str:
    text = _BULLET_PREFIX.sub("", line).strip()
    return re.sub(r"\s+", " ", text).rstrip(" ;,")


def _answer_points(block: Block) -> list[str]:
    """Bullets of the answer; a prose answer is cut into sentences instead."""
    body = block.lines[1:]
    bullets = [ln.text for ln in body if is_bullet(ln.text)]
    if bullets:
        points: list[str] = []
        for line in body:
            if line.blank:
                continue
            if is_bullet(line.text) or not points:
                points.append(_clean_point(line.text))
            else:  # a wrapped continuation of the previous bullet
                points[-1] = f"{points[-1]} {line.text.strip()}"
    else:
        prose = " ".join(ln.text.strip() for ln in body if not ln.blank)
        points = [s.strip() for s in _SENTENCE.split(prose) if s.strip()]
    kept, seen = [], set()
    for point in points:
        key = point.lower()
        if len(point.split()) < MIN_POINT_WORDS or key in seen:
            continue
        seen.add(key)
        kept.append(point)
    return kept[:MAX_POINTS]


def item_id_for(source_id: str, question: str) -> str:
    digest = hashlib.sha256(f"{source_id}\0{question.lower()}".encode()).hexdigest()
    return f"x-{digest[:12]}"


def extract_items(source_id: str, title: str, text: str) -> list[QuestionItem]:
    items: list[QuestionItem] = []
    seen: set[str] = set()
    for block in split_blocks(text):
        if block.kind != "qa":
            continue
        points = _answer_points(block)
        # An "answer" that is mostly further questions is a checklist, not a rubric.
        if len(points) < MIN_POINTS or sum(p.endswith("?") for p in points) * 2 > len(points):
            continue
        item_id = item_id_for(source_id, block.question)
        if item_id in seen:
            continue
        seen.add(item_id)
        step = guess_step(f"{block.question} {block.question} {' '.join(points)}")
        cite = Citation(
            source_id=source_id,
            title=title,
            heading=" > ".join(block.heading_path),
            snippet=block.question,
            start=block.start,
            end=block.end,
        )
        rubric = [
            RubricPoint(
                id=f"{item_id}#p{n}",
                text=point,
                # The source gives no weights; a worked example is worth less than a principle.
                weight=0.5 if point.lower().startswith(("example", "e.g.", "for example")) else 1.0,
                step=step,
                source=cite,
            )
            for n, point in enumerate(points, start=1)
        ]
        items.append(
            QuestionItem(
                id=item_id,
                kind="extracted",
                question=block.question,
                rubric=rubric,
                model_answer=" ".join(
                    p if p.endswith((".", "!", "?")) else p + "." for p in points
                ),
                step=step,
                tags=["extracted", step.value],
                sources=[cite],
            )
        )
    return items

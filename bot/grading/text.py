"""Reading an answer: spans with offsets, and the cues graders use (negation, term lists, ...)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.retrieval import tokenize

MAX_ANSWER_CHARS = 6000
"""Answers longer than this are graded on their first 6000 characters (about 1000 words)."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


_SENT_END = re.compile(r"(?<=[.!?;])\s+|\n+|(?<=:)\s+(?=[A-Z])")
_CLAUSE = re.compile(
    r",\s+(?=(?:but|because|so|which|while|whereas|since|although|and then|then)\b)|"
    r"\s+(?=(?:because|whereas|although)\b)|,\s+and\s+|;\s*|\s+-\s+"
)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+")


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Span]:
    spans, cursor = [], start
    for match in pattern.finditer(text, start, end):
        if match.start() > cursor:
            spans.append(_trim(text, cursor, match.start()))
        cursor = match.end()
    if cursor < end:
        spans.append(_trim(text, cursor, end))
    return [s for s in spans if s.text]


def _trim(text: str, start: int, end: int) -> Span:
    piece = text[start:end]
    bullet = _BULLET.match(piece)
    lead = bullet.end() if bullet else len(piece) - len(piece.lstrip())
    tail = len(piece.rstrip())
    return Span(start + lead, start + max(lead, tail), text[start + lead : start + max(lead, tail)])


def sentences(text: str) -> list[Span]:
    return [s for s in _split(text, 0, len(text), _SENT_END) if len(s.text) > 1]


def spans(text: str) -> list[Span]:
    """Sentences, their clauses, and adjacent sentence pairs: the units evidence can be."""
    sents = sentences(text)
    out: dict[tuple[int, int], Span] = {(s.start, s.end): s for s in sents}
    for sent in sents:
        clauses = _split(text, sent.start, sent.end, _CLAUSE)
        if len(clauses) > 1:
            for c in clauses:
                if len(c.text.split()) >= 3:
                    out.setdefault((c.start, c.end), c)
    for a, b in itertools.pairwise(sents):
        out.setdefault((a.start, b.end), Span(a.start, b.end, text[a.start : b.end]))
    return sorted(out.values(), key=lambda s: (s.start, s.end))


# -- cues -------------------------------------------------------------------------------------
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|without|cannot|can't|won't|don't|doesn't|"
    r"didn't|isn't|aren't|wasn't|weren't|shouldn't|mustn't|needn't|hardly|unnecessary|"
    r"irrelevant|pointless|avoid|instead of)\b",
    re.I,
)


def negations(text: str) -> int:
    return len(_NEGATION.findall(text))


_MANIPULATION = re.compile(
    r"ignore (?:the |all |any |previous |prior |above |your )*(?:rubric|instructions?|rules|grading)|"
    r"(?:full|maximum|perfect|top) (?:marks|score|points|credit)|"
    r"\b(?:mark|grade|score|treat|consider)\w* (?:all|every|each) (?:the )?(?:rubric )?points?\b|"
    r"(?:all|every) (?:rubric )?points? (?:are|as|were) (?:covered|satisfied|met)|"
    r"\b(?:system|assistant|developer)\s*(?:prompt|message|note)?\s*:|"
    r"\bnote to (?:the )?(?:grader|evaluator|examiner|judge|reviewer)|"
    r"\b(?:grader|evaluator|examiner|judge|scoring model)\b.{0,40}\b(?:must|should|will|award|give)|"
    r"covered points?\s*:|\"status\"\s*:\s*\"covered\"|award (?:this|me|the candidate)|"
    r"as an ai\b|previous round|already covered",
    re.I,
)


def manipulation_spans(text: str) -> list[Span]:
    """Sentences that address the grader instead of the interviewer's question."""
    return [s for s in sentences(text) if _MANIPULATION.search(s.text)]


def content_words(text: str) -> list[str]:
    return [t for t in tokenize(text) if len(t) > 2]


_VERB_HINT = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|do|does|did|can|could|will|would|should|"
    r"must|may|might|use|uses|using|make|makes|means|need|needs|helps?|lets?|gives?|keeps?|"
    r"compare|compares|measure|measures|track|tracks|detect|detects|train|trains|split|"
    r"retrain|send|sends|because|so|if|when|then|which|that|by|to|the|a|an|of|for|it|we|i)\b",
    re.I,
)


def looks_like_term_list(text: str) -> bool:
    """Bare key terms with no reasoning: many short comma-separated items, few verbs."""
    items = [i.strip() for i in re.split(r"[,;\n/|•·]+|\s+-\s+", text) if i.strip()]
    words = text.split()
    if len(items) < 3 or not words:
        return False
    avg_item = sum(len(i.split()) for i in items) / len(items)
    verbs = len(_VERB_HINT.findall(text))
    return avg_item <= 3.0 and verbs / len(words) < 0.15


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    from knowledge.embeddings import bundled_model_dir

    words = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha())


_ENGLISH_GLUE = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "is",
        "are",
        "for",
        "with",
        "on",
        "that",
        "this",
        "it",
        "be",
        "by",
        "as",
        "we",
        "you",
        "i",
        "at",
        "from",
        "can",
        "not",
        "but",
        "if",
        "so",
        "when",
        "which",
        "would",
        "will",
        "use",
        "model",
        "data",
    ]
)


def language_issue(text: str) -> str | None:
    """'non-english' or 'gibberish' when the answer cannot be graded as English prose."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < 0.7:
        return "non-english"
    words = re.findall(r"[a-z]+", text.lower())
    if len(words) < 3:
        return None
    vocab = _vocabulary()
    known = sum(w in vocab for w in words) / len(words)
    glue = sum(w in _ENGLISH_GLUE for w in words) / len(words)
    if known < 0.5:
        return "gibberish"
    if glue < 0.04 and len(words) >= 12 and known < 0.8:
        return "non-english"
    return None


def repeats_question(answer: str, question: str) -> bool:
    """True when the answer adds (almost) nothing beyond the question's own words."""
    answer_words = set(content_words(answer))
    if not answer_words:
        return False
    new = answer_words - set(content_words(question))
    return len(new) <= max(1, len(answer_words) // 10)

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


_FILLER = re.compile(
    r"(?:(?<=^)|(?<=[.!?;:]\s))\s*(?:(?:honestly|actually|really|basically|frankly|"
    r"to be honest)\s*,\s*|the (?:trick|thing) is(?: that)?\s+)",
    re.I,
)


def without_fillers(text: str) -> str:
    """The text as the models read it, less sentence-initial conversational fillers
    ("Honestly,", "The trick is that"): they carry no claim, yet they shift which span sits
    closest to a point and how the cross-encoder reads it. Evidence still quotes the original.
    A span that is nothing but a filler ("Honestly,") stays as it is rather than turn empty."""
    return _FILLER.sub("", text).strip() or text


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
    r"(?:^|\n)\s*(?:system|assistant|developer)\s*(?:prompt|message|note)?\s*:|"
    r"\b(?:system|assistant|developer)\s+(?:prompt|message|note)\s*:|"
    r"\bnote to (?:the )?(?:grader|evaluator|examiner|judge|reviewer)|"
    r"\b(?:grader|evaluator|examiner|judge|scoring model)\b.{0,40}\b(?:must|should|will|award|give)|"
    r"covered points?\s*:|\"status\"\s*:\s*\"covered\"|award (?:this|me|the candidate)|"
    r"as an ai\b|previous round|already covered",
    re.I,
)


def manipulation_spans(text: str) -> list[Span]:
    """Sentences that address the grader instead of the interviewer's question. One that runs
    on as a list ("Covered points: a; b; c") is blocked to the end of its line: its items look
    like answers on their own."""
    out = []
    for s in sentences(text):
        if _MANIPULATION.search(s.text):
            end = s.end
            if s.text.rstrip().endswith((";", ":")):
                newline = text.find("\n", s.end)
                end = len(text) if newline < 0 else newline
            out.append(Span(s.start, end, text[s.start : end]))
    return out


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


# Function words of the languages candidates most often switch to; none is English.
_FOREIGN_GLUE = frozenset(
    [
        "el",
        "los",
        "las",
        "del",
        "una",
        "uno",
        "por",
        "para",
        "con",
        "como",
        "pero",
        "porque",
        "cuando",
        "entre",
        "sobre",
        "está",
        "son",
        "les",
        "des",
        "une",
        "est",
        "dans",
        "pour",
        "avec",
        "mais",
        "parce",
        "quand",
        "sont",
        "aussi",
        "cette",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "mit",
        "sich",
        "auch",
        "auf",
        "wenn",
        "oder",
        "werden",
        "wird",
        "il",
        "della",
        "delle",
        "sono",
        "nel",
        "nella",
        "che",
        "perché",
        "anche",
        "questo",
        "não",
        "uma",
        "com",
        "mais",
        "quando",
        "também",
        "isso",
    ]
)


def language_issue(text: str) -> str | None:
    """'non-english' or 'gibberish' when the answer cannot be graded as English prose."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < 0.7:
        return "non-english"
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    if len(words) < 3:
        return None
    foreign = sum(w in _FOREIGN_GLUE for w in words) / len(words)
    if foreign >= 0.12 and len(words) >= 6:
        return "non-english"
    words = re.findall(r"[a-z]+", text.lower())
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


# -- contradiction cues -----------------------------------------------------------------------
# Word pairs whose swap reverses a claim ("L1 gives sparsity" vs "L2 gives sparsity").
_OPPOSITES: tuple[tuple[str, str], ...] = (
    ("increase", "decrease"),
    ("increase", "reduce"),
    ("rise", "fall"),
    ("raise", "lower"),
    ("higher", "lower"),
    ("high", "low"),
    ("more", "less"),
    ("more", "fewer"),
    ("most", "least"),
    ("larger", "smaller"),
    ("large", "small"),
    ("big", "small"),
    ("bigger", "smaller"),
    ("better", "worse"),
    ("before", "after"),
    ("early", "late"),
    ("first", "last"),
    ("always", "never"),
    ("offline", "online"),
    ("precision", "recall"),
    ("l1", "l2"),
    ("sparse", "dense"),
    ("rare", "common"),
    ("overfit", "underfit"),
    ("overfitting", "underfitting"),
    ("bias", "variance"),
    ("fast", "slow"),
    ("faster", "slower"),
    ("cheap", "expensive"),
    ("cheaper", "costlier"),
    ("easy", "hard"),
    ("easier", "harder"),
    ("symmetric", "asymmetric"),
    ("bounded", "unbounded"),
    ("supervised", "unsupervised"),
    ("stable", "unstable"),
    ("same", "different"),
    ("positive", "negative"),
    ("true", "false"),
    ("maximize", "minimize"),
    ("maximise", "minimise"),
    ("add", "remove"),
    ("include", "exclude"),
    ("with", "without"),
    ("static", "dynamic"),
    ("batch", "streaming"),
    ("synchronous", "asynchronous"),
    ("independent", "dependent"),
    ("linear", "exponential"),
    ("train", "test"),
    ("random", "stratified"),
    ("upstream", "downstream"),
    ("cloud", "device"),
    ("roc", "pr"),
)
_OPPOSITE_OF: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE_OF.setdefault(_a, set()).add(_b)
    _OPPOSITE_OF.setdefault(_b, set()).add(_a)

_WORD = re.compile(r"[a-z0-9]+")


def opposite_swaps(span: str, point: str) -> int:
    """How many of the point's words the span replaces by their opposite (and not the reverse)."""
    sw, pw = set(_WORD.findall(span.lower())), set(_WORD.findall(point.lower()))
    return sum(
        1
        for word in pw - sw
        for opposite in _OPPOSITE_OF.get(word, ())
        if opposite in sw and opposite not in pw
    )


# Overclaiming and dismissal: how confident wrong answers wave a key point away. Only words that
# dismiss or overclaim count; conversational emphasis ("honestly", "actually", "really",
# "basically", "the trick is") does not, so a candidate who talks naturally loses nothing
# (tests/test_grading.py checks that fillers leave a strong answer's score alone).
_DISMISSIVE = re.compile(
    r"\b(?:always|never|only|just|simply|merely|no (?:need|point|reason|difference)|"
    r"(?:doesn't|does not|don't|do not|won't|isn't|is not|aren't) (?:really |actually |even )?"
    r"(?:matter|need|help|change|apply|add|work)\w*|no different|irrelevant|pointless|"
    r"unnecessary|overkill|waste|formality|(?:isn't|is not|aren't|not) (?:really|actually)|"
    r"guarantee[sd]?|proves?|cancel out|skip|"
    r"(?:any|every|all) (?:\w+ )?(?:case|time|problem|model)s?|exactly|perfectly|by definition|"
    r"automatically|(?:don't|wouldn't|won't) bother|"
    r"throw (?:it|them|those) away|(?:is|are) easy|no reason|"
    r"nothing (?:to|more|else)|for free|at all)\b",
    re.I,
)


def dismissals(text: str) -> int:
    return len(_DISMISSIVE.findall(text))


_AUX_NEGATE = re.compile(
    r"\b(is|are|was|were|can|should|must|will|would|does|do|has|have|makes|make|needs|need)\b",
    re.I,
)


def negated(text: str) -> str:
    """A crude negation of a rubric point: its first auxiliary verb negated, else 'It is not true that'."""
    match = _AUX_NEGATE.search(text)
    if match:
        word = match.group(1)
        lower = word.lower()
        if lower in ("makes", "make", "needs", "need", "has", "have"):
            repl = ("does not " if lower.endswith("s") else "do not ") + lower.rstrip("s")
            if lower == "has":
                repl = "does not have"
        else:
            repl = f"{word} not"
        return text[: match.start()] + repl + text[match.end() :]
    return "It is not true that " + text[0].lower() + text[1:]

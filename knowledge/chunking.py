"""Structure-aware chunking: headings, numbered questions, bullet lists and Q&A blocks stay whole.

The text is first cut into blocks (a Q&A block is a question line with the
answer below it); blocks are then packed into chunks under their heading
path. Every chunk is an exact slice of the document (`text[start:end]`), so
a citation can point at the very characters it came from.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from knowledge.models import Chunk

MAX_CHARS = 1200
MIN_CHARS = 40

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+•◦▪●‣–]|\d{1,3}[.)]|[a-z][.)])\s+")
_QUESTION_PREFIX = re.compile(
    r"^\s*(?:[-*+•◦▪●]\s*)?(?:(?:Question|Q)\s*\d*\s*[:.)-]\s*|\d{1,3}[.)]\s+)?", re.I
)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_INNER_NUMBER = re.compile(r"(?<=[^\s\d])\d{1,3}[.)]\s+(?=[A-Z])")
BOILERPLATE = re.compile(
    r"^\s*(image by|photo by|image generated|open in app|listen|share|more|follow(ing)?|"
    r"sign (up|in)|get unlimited access|✦|\[?become a member|written by|\d+(\.\d+)?k? followers)",
    re.I,
)

BlockKind = Literal["heading", "qa", "list", "paragraph"]


@dataclass
class Line:
    text: str
    start: int
    end: int

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" \t"))

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass
class Block:
    kind: BlockKind
    lines: list[Line]
    heading_path: list[str] = field(default_factory=list)
    question: str = ""

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end


def _lines(text: str) -> list[Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        out.append(Line(raw, pos, pos + len(raw)))
        pos += len(raw) + 1
    return out


def is_bullet(line: str) -> bool:
    return bool(_BULLET.match(line))


def question_text(line: str) -> str | None:
    """The question a line asks, without its numbering, or None if it asks none."""
    stripped = line.strip()
    if not stripped.endswith("?") and "?" not in stripped[-3:]:
        return None
    body = _QUESTION_PREFIX.sub("", _EMPHASIS.sub("", stripped)).strip()
    # Web copies glue junk before the number ("site.com18. How do ..."): start at the number.
    numbered = _INNER_NUMBER.search(body[:60])
    if numbered:
        body = body[numbered.end() :]
    return body if len(body.split()) >= 3 else None


def _plain_heading(lines: list[Line], i: int) -> bool:
    """A short standalone line without final punctuation, between blank lines."""
    text = lines[i].text.strip()
    if not text or len(text) > 80 or is_bullet(lines[i].text) or text[-1] in ".,;:?!)":
        return False
    if BOILERPLATE.match(text) or not text[0].isupper() or len(text.split()) > 10:
        return False
    prev_blank = i == 0 or lines[i - 1].blank
    next_blank = i + 1 >= len(lines) or lines[i + 1].blank
    return prev_blank and next_blank


def split_blocks(text: str) -> list[Block]:
    lines = _lines(text)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.blank or BOILERPLATE.match(line.text.strip()):
            i += 1
            continue
        path = [h for _, h in headings]
        md = _MD_HEADING.match(line.text.strip())
        if md or _plain_heading(lines, i):
            level = len(md.group(1)) if md else 2
            title = md.group(2) if md else line.text.strip()
            headings = [(lvl, h) for lvl, h in headings if lvl < level] + [(level, title)]
            blocks.append(Block("heading", [line], [h for _, h in headings]))
            i += 1
            continue
        question = question_text(line.text)
        if question:
            j = _answer_end(lines, i)
            blocks.append(Block("qa", lines[i:j], path, question))
            i = j
            continue
        kind: BlockKind = "list" if is_bullet(line.text) else "paragraph"
        j = i + 1
        while j < len(lines) and not lines[j].blank and not question_text(lines[j].text):
            if kind == "paragraph" and is_bullet(lines[j].text):
                break
            j += 1
        blocks.append(Block(kind, lines[i:j], path))
        i = j
    return blocks


def _answer_end(lines: list[Line], q: int) -> int:
    """Index just past the answer of the question at line `q`."""
    base = lines[q].indent
    j, last = q + 1, q + 1
    seen_answer = False
    while j < len(lines):
        line = lines[j]
        if line.blank:
            j += 1
            continue
        stripped = line.text.strip()
        if _MD_HEADING.match(stripped) or BOILERPLATE.match(stripped):
            break
        if question_text(line.text) and line.indent <= base:
            break
        deeper = line.indent > base
        if is_bullet(line.text) or deeper or (not seen_answer and j == q + 1):
            seen_answer = True
            last = j + 1
            j += 1
            continue
        # A paragraph at the question's level after a blank line: the answer is over.
        if lines[j - 1].blank:
            break
        last = j + 1
        j += 1
    return last


def _chunk_id(source_id: str, text: str, nth: int) -> str:
    digest = hashlib.sha256(f"{source_id}\0{nth}\0{text}".encode()).hexdigest()
    return f"c-{digest[:24]}"


def chunk_document(
    source_id: str, title: str, text: str, max_chars: int = MAX_CHARS
) -> list[Chunk]:
    """Cut a document into cited chunks; ids are content hashes (stable across re-ingests)."""
    spans: list[tuple[int, int, list[str], BlockKind]] = []
    pending: list[Block] = []

    def flush() -> None:
        if pending:
            spans.append(
                (pending[0].start, pending[-1].end, pending[0].heading_path, _kind(pending))
            )
            pending.clear()

    for block in split_blocks(text):
        if block.kind == "heading":
            flush()
            continue
        if block.kind == "qa" or block.end - block.start > max_chars:
            flush()
            spans.extend(
                (s, e, block.heading_path, block.kind)
                for s, e in _split_long(text, block, max_chars)
            )
            continue
        if pending and (
            block.heading_path != pending[0].heading_path
            or block.end - pending[0].start > max_chars
        ):
            flush()
        pending.append(block)
    flush()

    seen: Counter[str] = Counter()
    chunks = []
    for start, end, path, kind in spans:
        body = text[start:end]
        if len(body.strip()) < MIN_CHARS and kind != "qa":
            continue
        seen[body] += 1
        chunks.append(
            Chunk(
                id=_chunk_id(source_id, body, seen[body]),
                source_id=source_id,
                title=title,
                heading_path=path,
                text=body,
                start=start,
                end=end,
                kind=kind,
            )
        )
    return chunks


def _kind(blocks: list[Block]) -> BlockKind:
    kinds = {b.kind for b in blocks}
    return "list" if kinds == {"list"} else "paragraph"


def _split_long(text: str, block: Block, max_chars: int) -> list[tuple[int, int]]:
    """Split a block that is too long at line boundaries, then at sentence ends."""
    if block.end - block.start <= max_chars:
        return [(block.start, block.end)]
    pieces: list[tuple[int, int]] = []
    start = block.start
    for line in block.lines:
        if line.end - start > max_chars and line.start > start:
            pieces.append((start, line.start - 1))
            start = line.start
        while line.end - start > max_chars:
            cut = text.rfind(". ", start, start + max_chars)
            cut = cut + 1 if cut > start else start + max_chars
            pieces.append((start, cut))
            start = cut + 1 if text[cut : cut + 1] == " " else cut
    if start < block.end:
        pieces.append((start, block.end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]

"""What the rest of Panelist gets from the knowledge base.

These are the resolved forms of the authored files (global ids, sources
resolved to citations) plus what ingestion produces from user documents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.schema import Difficulty, Step


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Citation(Frozen):
    """Where a rubric point or an answer comes from, precise enough to open the passage."""

    source_id: str
    title: str
    heading: str = ""
    url: str | None = None
    snippet: str | None = None
    start: int | None = None
    end: int | None = None

    def label(self) -> str:
        return f"{self.title} — {self.heading}" if self.heading else self.title


class RubricPoint(Frozen):
    id: str  # globally unique: "<item id>#<local id>"
    text: str
    weight: float = 1.0
    step: Step | None = None
    probes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    misconceptions: list[str] = Field(default_factory=list)
    """Wrong versions of the point that candidates state with confidence (never true)."""
    source: Citation


ItemKind = Literal["concept", "design-step", "extracted"]


class QuestionItem(Frozen):
    id: str
    kind: ItemKind
    question: str
    alt_phrasings: list[str] = Field(default_factory=list)
    rubric: list[RubricPoint]
    model_answer: str | None = None
    step: Step | None = None
    tags: list[str] = Field(default_factory=list)
    difficulty: Difficulty = Difficulty.MEDIUM
    sources: list[Citation] = Field(default_factory=list)

    @property
    def phrasings(self) -> list[str]:
        return [self.question, *self.alt_phrasings]


class Chunk(Frozen):
    """A passage of a source document that an answer can cite."""

    id: str
    source_id: str
    title: str
    heading_path: list[str] = Field(default_factory=list)
    text: str
    start: int
    end: int
    kind: Literal["heading", "qa", "list", "paragraph", "authored"] = "paragraph"

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


class SourceRecord(Frozen):
    """One ingested document (or shipped corpus file) and what it produced."""

    source_id: str
    title: str
    path: str
    sha256: str
    origin: Literal["corpus", "user"]
    n_chunks: int = 0
    n_items: int = 0

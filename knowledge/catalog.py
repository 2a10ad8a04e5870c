"""Load and validate the authored corpus (`knowledge/corpus/`).

Every problem is reported with its file and line, all at once, so an author
can fix a file in one pass. The catalog resolves authored items into the
`QuestionItem`s the rest of the app uses.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.models import Citation, QuestionItem, RubricPoint
from knowledge.schema import (
    AuthoredPoint,
    ConceptFile,
    ConceptItem,
    DesignCase,
    Framework,
    FrameworkStep,
    MisconceptionFile,
    Source,
    SourceFile,
    Step,
)

M = TypeVar("M", bound=BaseModel)

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
FRAMEWORK_ITEM = "framework"
MISCONCEPTIONS = "misconceptions.yaml"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class CorpusError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the corpus:\n{head}{more}")


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node that a pydantic error location points at."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                # An unknown key: point at the key itself.
                match = next((k for k, _ in node.value if getattr(k, "value", None) == key), None)
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _load_file(path: Path, model: type[M], problems: list[Problem], root: Path) -> M | None:
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, None, f"cannot read: {exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(rel, mark.line + 1 if mark else None, f"invalid YAML: {exc}"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(Problem(rel, _line_of(node, loc), f"{where}: {err['msg']}"))
        return None


@dataclass
class Catalog:
    """The authored corpus, validated and cross-checked."""

    root: Path
    sources: dict[str, Source]
    framework: Framework
    concepts: list[ConceptItem]
    cases: list[DesignCase]
    files: dict[Path, str] = field(default_factory=dict)  # path -> sha256
    misconceptions: dict[str, list[str]] = field(default_factory=dict)  # point id -> errors

    # -- resolution into app-level objects ------------------------------------------------
    def citation(self, source_ids: Iterable[str], heading: str = "") -> Citation:
        ids = list(source_ids)
        # Cite the most specific work: an external source before our own notes.
        chosen = next((s for s in ids if s != "panelist-authors"), ids[0])
        src = self.sources[chosen]
        return Citation(source_id=src.id, title=src.title, heading=heading, url=src.url)

    def _points(
        self, prefix: str, points: list[AuthoredPoint], step: Step, cite: Citation
    ) -> list[RubricPoint]:
        return [
            RubricPoint(
                id=f"{prefix}#{p.id}",
                text=p.text,
                weight=p.weight,
                step=step,
                probes=list(p.probes),
                keywords=list(p.keywords),
                misconceptions=list(self.misconceptions.get(f"{prefix}#{p.id}", [])),
                source=cite,
            )
            for p in points
        ]

    def framework_step(self, step: Step) -> FrameworkStep:
        return next(s for s in self.framework.steps if s.step is step)

    def generic_points(self, step: Step) -> list[RubricPoint]:
        fs = self.framework_step(step)
        cite = self.citation(fs.sources, heading=f"Framework: {step.label}")
        return self._points(f"{FRAMEWORK_ITEM}.{step.value}", fs.rubric, step, cite)

    def concept_item(self, concept: ConceptItem) -> QuestionItem:
        cite = self.citation(concept.sources, heading=concept.question)
        return QuestionItem(
            id=concept.id,
            kind="concept",
            question=concept.question,
            alt_phrasings=list(concept.alt_phrasings),
            rubric=self._points(concept.id, concept.rubric, concept.step, cite),
            model_answer=concept.model_answer,
            step=concept.step,
            tags=list(concept.tags),
            difficulty=concept.difficulty,
            sources=[self.citation([s], heading=concept.question) for s in concept.sources],
        )

    def design_step_item(self, case: DesignCase, step: Step) -> QuestionItem:
        fs = self.framework_step(step)
        cite = self.citation(case.sources, heading=f"{case.title}: {step.label}")
        specific = self._points(f"{case.id}.{step.value}", case.steps[step], step, cite)
        return QuestionItem(
            id=f"{case.id}.{step.value}",
            kind="design-step",
            question=fs.opening_question.replace("{case}", case.title.lower()),
            rubric=[*self.generic_points(step), *specific],
            step=step,
            tags=[*case.tags, step.value],
            difficulty=case.difficulty,
            sources=[cite],
        )

    def question_items(self) -> list[QuestionItem]:
        items = [self.concept_item(c) for c in self.concepts]
        items += [self.design_step_item(case, step) for case in self.cases for step in Step]
        return items

    def case(self, case_id: str) -> DesignCase:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(f"unknown case {case_id!r}; known: {', '.join(c.id for c in self.cases)}")

    def rubric_point_count(self) -> int:
        generic = sum(len(s.rubric) for s in self.framework.steps)
        concepts = sum(len(c.rubric) for c in self.concepts)
        cases = sum(len(pts) for case in self.cases for pts in case.steps.values())
        return generic + concepts + cases


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_files(root: Path = CORPUS_DIR) -> Iterator[Path]:
    yield root / "sources.yaml"
    yield root / "framework.yaml"
    yield from sorted((root / "concepts").glob("*.yaml"))
    yield from sorted((root / "cases").glob("*.yaml"))
    yield root / MISCONCEPTIONS


def _cross_check(
    root: Path,
    sources: dict[str, Source],
    located: list[tuple[Path, str, list[str]]],
    problems: list[Problem],
) -> None:
    """Ids unique across files; every cited source exists."""
    seen = Counter(item_id for _, item_id, _ in located)
    for path, item_id, cited in located:
        rel = path.relative_to(root)
        if seen[item_id] > 1:
            problems.append(Problem(rel, None, f"id {item_id!r} is used more than once"))
        for sid in cited:
            if sid not in sources:
                problems.append(Problem(rel, None, f"{item_id}: unknown source {sid!r}"))


def load_catalog(root: Path = CORPUS_DIR) -> Catalog:
    """Load every corpus file; raise `CorpusError` listing all problems if any."""
    problems: list[Problem] = []
    if not root.is_dir():
        raise CorpusError([Problem(root, None, "corpus directory not found")])
    source_file = _load_file(root / "sources.yaml", SourceFile, problems, root)
    framework = _load_file(root / "framework.yaml", Framework, problems, root)
    concepts: list[ConceptItem] = []
    cases: list[DesignCase] = []
    located: list[tuple[Path, str, list[str]]] = []
    for path in sorted((root / "concepts").glob("*.yaml")):
        loaded = _load_file(path, ConceptFile, problems, root)
        if loaded:
            concepts.extend(loaded.concepts)
            located += [(path, c.id, list(c.sources)) for c in loaded.concepts]
    for path in sorted((root / "cases").glob("*.yaml")):
        case = _load_file(path, DesignCase, problems, root)
        if case:
            if case.id != path.stem:
                problems.append(
                    Problem(path.relative_to(root), 1, f"id {case.id!r} must match the file name")
                )
            cases.append(case)
            located.append((path, case.id, list(case.sources)))
    sources = {s.id: s for s in source_file.sources} if source_file else {}
    if framework:
        located += [
            (root / "framework.yaml", f"{FRAMEWORK_ITEM}.{s.step.value}", list(s.sources))
            for s in framework.steps
        ]
    _cross_check(root, sources, located, problems)
    misconceptions: dict[str, list[str]] = {}
    if (root / MISCONCEPTIONS).is_file():
        loaded_errors = _load_file(root / MISCONCEPTIONS, MisconceptionFile, problems, root)
        if loaded_errors:
            misconceptions = {k: list(v) for k, v in loaded_errors.misconceptions.items()}
    if problems:
        raise CorpusError(problems)
    assert framework is not None
    files = {p: _sha256(p) for p in corpus_files(root) if p.is_file()}
    catalog = Catalog(root, sources, framework, concepts, cases, files, misconceptions)
    known = {p.id for item in catalog.question_items() for p in item.rubric}
    unknown = sorted(set(misconceptions) - known)
    if unknown:
        node = yaml.compose((root / MISCONCEPTIONS).read_text(encoding="utf-8"))
        assert node is not None  # it validated above
        mapping = next(v for k, v in node.value if k.value == "misconceptions")
        lines = {k.value: k.start_mark.line + 1 for k, _ in mapping.value}
        raise CorpusError(
            [
                Problem(
                    Path(MISCONCEPTIONS),
                    lines[pid],
                    f"misconceptions for an unknown rubric point {pid!r}",
                )
                for pid in unknown
            ]
        )
    return catalog

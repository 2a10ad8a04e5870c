"""The dependencies a front end needs, built once and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.llm import ChatModel, LLMError, NoModel, build_chat_model
from bot.settings import Settings
from knowledge.ingest import Progress, ensure_index
from knowledge.retrieval import Retriever
from knowledge.store import KnowledgeStore


@dataclass
class Services:
    settings: Settings
    store: KnowledgeStore
    retriever: Retriever
    model: ChatModel
    notices: list[str] = field(default_factory=list)


def build_services(
    settings: Settings | None = None, *, progress: Progress | None = None
) -> Services:
    """Index the knowledge base if needed (reporting to `progress`), then wire everything."""
    settings = settings or Settings()
    ready = ensure_index(settings, progress=progress) if progress else ensure_index(settings)
    notices = list(ready.messages)
    try:
        model = build_chat_model(settings)
    except LLMError as exc:
        notices.append(f"{exc} Continuing without an LLM.")
        model = NoModel()
    return Services(settings, ready.store, Retriever(ready.store), model, notices)

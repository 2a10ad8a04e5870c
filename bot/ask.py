"""Ask mode: explain a concept from the knowledge base, always with citations.

Without an LLM the answer is the matched item's authored model answer; with
one, the LLM writes the answer from the retrieved passages. If the LLM fails,
the authored answer is used and the reply says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.llm import ChatModel, LLMError, NoModel, user
from bot.prompts import render
from knowledge.models import Citation, QuestionItem
from knowledge.retrieval import PassageHit, Retriever

MAX_QUESTION_CHARS = 2000
# Below this combined score the best item is only a weak lexical or dense match: on the
# dev paraphrases the right item never scores under 1.6, while made-up words score 0.5-0.8.
MIN_ITEM_SCORE = 1.0


@dataclass
class Explanation:
    question: str
    item: QuestionItem | None
    answer: str
    passages: list[PassageHit]
    citations: list[Citation]
    answered_by: str  # "knowledge-base" or the LLM's name
    fallback_reason: str | None = None
    related: list[QuestionItem] = field(default_factory=list)


class AskError(ValueError):
    pass


def _clean_question(question: str) -> str:
    text = " ".join(question.split())
    if not text:
        raise AskError("Ask a question, for example: explain concept drift.")
    if len(text) > MAX_QUESTION_CHARS:
        raise AskError(f"That question is over {MAX_QUESTION_CHARS} characters; shorten it.")
    return text


def explain(question: str, retriever: Retriever, model: ChatModel | None = None) -> Explanation:
    text = _clean_question(question)
    matches = retriever.find_question(text, k=4)
    item = None
    if matches and matches[0].score >= MIN_ITEM_SCORE:
        item = retriever.item(matches[0].item_id)
    related = [retriever.item(m.item_id) for m in matches[1:4]]
    passages = retriever.search_passages(text, k=4)
    citations = ([*item.sources] if item else []) + [p.citation for p in passages]
    fallback = None
    if model is not None and not isinstance(model, NoModel):
        context = "\n\n".join(
            f"[{n}] ({p.citation.label()})\n{p.text[:1500]}" for n, p in enumerate(passages, 1)
        )
        try:
            answer = model.chat([user(render("explain", question=text, context=context))])
            if answer.strip():
                return Explanation(
                    text, item, answer.strip(), passages, citations, model.name, None, related
                )
            fallback = "the LLM returned an empty answer"
        except LLMError as exc:
            fallback = f"the LLM was not available ({exc.reason}): {exc}"
    if item is not None and item.model_answer:
        answer = item.model_answer
    elif passages:
        answer = "No authored answer matches this question closely; the closest passages are below."
    else:
        answer = "The knowledge base has nothing on this yet. Try ingesting your notes."
    return Explanation(text, item, answer, passages, citations, "knowledge-base", fallback, related)

"""Ask mode: explain a concept from the knowledge base, with citations."""

from __future__ import annotations

import streamlit as st

from bot.ask import AskError, explain
from ui.components import services, status_line

svc = services()
st.title("Ask Panelist")
status_line(svc)
st.write("Ask about any ML system design or MLOps concept, e.g. *explain concept drift*.")

history: list[tuple[str, object]] = st.session_state.setdefault("ask_history", [])
for question, result in history:
    with st.chat_message("user"):
        st.write(question)
    with st.chat_message("assistant"):
        st.markdown(result.answer)  # type: ignore[attr-defined]

question = st.chat_input("Your question")
if question:
    with st.chat_message("user"):
        st.write(question)
    try:
        result = explain(question, svc.retriever, svc.model)
    except AskError as exc:
        st.error(str(exc))
    else:
        with st.chat_message("assistant"):
            if result.item:
                st.markdown(f"**{result.item.question}**")
            st.markdown(result.answer)
            if result.fallback_reason:
                st.warning(f"Answered from the knowledge base: {result.fallback_reason}")
            with st.expander("Sources", expanded=True):
                for hit in result.passages:
                    st.markdown(f"**{hit.citation.label()}**")
                    st.caption(hit.citation.snippet or "")
            if result.related:
                st.caption("Related: " + " · ".join(item.question for item in result.related))
        history.append((question, result))

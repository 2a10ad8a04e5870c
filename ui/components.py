"""Shared rendering helpers for the Streamlit pages. No business logic lives here."""

from __future__ import annotations

import streamlit as st

from bot.services import Services, build_services
from bot.settings import Settings


@st.cache_resource(show_spinner="Loading the knowledge base…")
def services() -> Services:
    return build_services(Settings())


def status_line(svc: Services) -> None:
    judge = svc.settings.resolved_judge().value
    st.caption(f"LLM: **{svc.model.name}** · grader: **{judge}** · store: {svc.store.location}")
    for notice in svc.notices:
        st.info(notice)

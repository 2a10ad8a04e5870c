"""Panelist's Streamlit entry point: `panelist ui` or `make run`."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Panelist", page_icon="🎙️", layout="wide")

pages = st.navigation(
    [
        st.Page(
            "pages/interview.py",
            title="Interview",
            icon=":material/record_voice_over:",
            default=True,
        ),
        st.Page("pages/ask.py", title="Ask", icon=":material/help:"),
        st.Page("pages/history.py", title="History", icon=":material/monitoring:"),
        st.Page("pages/knowledge.py", title="Knowledge", icon=":material/library_books:"),
    ]
)
pages.run()

"""Browse the corpus, upload notes, see what was extracted, remove a source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from knowledge.ingest import ingest_paths, read_manifest, remove_source
from knowledge.loaders import SUPPORTED, LoadError
from knowledge.schema import Step
from knowledge.uploads import safe_name, save_upload
from ui.components import services, status_line

MAX_MB = 10

svc = services()
st.title("Knowledge base")
status_line(svc)

browse, upload = st.tabs(["Browse", "Your notes"])
with browse:
    left, right = st.columns([1, 2])
    step = left.selectbox(
        "Framework step", list(Step), format_func=lambda s: f"{s.number}. {s.label}"
    )
    items = sorted(svc.store.items({"kind": "concept", "step": step.value}), key=lambda i: i.id)
    tags = right.multiselect("Topics", sorted({t for i in items for t in i.tags}))
    if tags:
        items = [i for i in items if set(tags) & set(i.tags)]
    st.caption(f"{len(items)} concept questions")
    for item in items:
        with st.expander(item.question):
            st.markdown(item.model_answer or "")
            st.markdown("**Rubric**")
            for point in item.rubric:
                st.markdown(f"- ({point.weight:g}) {point.text}")
            st.caption("Tags: " + ", ".join(item.tags) + f" · difficulty: {item.difficulty.value}")
            if item.sources:
                st.caption("Sources: " + " · ".join(c.label() for c in item.sources))

with upload:
    files = st.file_uploader(
        f"Upload notes ({', '.join(SUPPORTED)}; up to {MAX_MB} MB each)",
        type=[s.lstrip(".") for s in SUPPORTED],
        accept_multiple_files=True,
        max_upload_size=MAX_MB,
        key="kb_upload",
    )
    if files and st.button("Ingest", type="primary"):
        saved: list[Path] = []
        ids: dict[Path, str] = {}
        bars: dict[str, Any] = {}
        shown: dict[str, str] = {}  # saved name -> the name the candidate knows
        for f in files:
            try:
                path = save_upload(
                    svc.settings.uploads_dir, f.name, f.getvalue(), max_bytes=MAX_MB * 1024 * 1024
                )
            except LoadError as exc:
                st.error(f"{f.name}: {exc.reason}")
                continue
            saved.append(path)
            # Same name, new content: the upload replaces its earlier version.
            ids[path] = f"upload:{safe_name(f.name)}"
            shown[path.name] = safe_name(f.name)
            bars[path.name] = st.progress(0.0, text=f"{shown[path.name]}: waiting")
        order = {p.name: n for n, p in enumerate(saved)}

        def progress(label: str, done: int, total: int) -> None:
            for name, n in order.items():
                if n < done:
                    bars[name].progress(1.0, text=f"{shown[name]}: done")
                elif n == done and label == name:
                    bars[name].progress(0.5, text=f"{shown[name]}: reading and indexing…")

        report = (
            ingest_paths(svc.settings, saved, store=svc.store, progress=progress, source_ids=ids)
            if saved
            else None
        )
        if report is not None:
            for rec in report.added + report.updated:
                st.success(
                    f"{rec.title}: {rec.n_chunks} passages, {rec.n_items} extracted questions"
                )
            for exc in report.failed:
                st.error(f"{Path(exc.path).name}: {exc.reason}")
            if report.unchanged:
                st.info(f"{len(report.unchanged)} file(s) were already indexed.")

    st.subheader("Ingested sources")
    records = [r for r in read_manifest(svc.settings).values() if r.origin == "user"]
    if not records:
        st.caption("Nothing yet: upload your notes above.")
    for rec in records:
        cols = st.columns([6, 2, 2])
        cols[0].markdown(f"**{rec.title}**  \n`{rec.path}`")
        cols[1].caption(f"{rec.n_chunks} passages · {rec.n_items} questions")
        if cols[2].button("Remove", key=f"rm-{rec.source_id}"):
            remove_source(svc.settings, rec.source_id, store=svc.store)
            st.rerun()
        extracted = svc.store.items({"kind": "extracted", "source_id": rec.source_id})
        if extracted:
            with st.expander(f"{len(extracted)} extracted questions"):
                for item in extracted:
                    st.markdown(f"**{item.question}**")
                    for point in item.rubric:
                        st.markdown(f"- {point.text}")

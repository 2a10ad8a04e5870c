"""Browse the corpus, upload notes, see what was extracted, remove a source."""

from __future__ import annotations

import streamlit as st

from knowledge.ingest import ingest_paths, read_manifest, remove_source
from knowledge.loaders import SUPPORTED, LoadError
from knowledge.schema import Step
from knowledge.uploads import save_upload
from ui.components import services, status_line

MAX_MB = 10

svc = services()
st.title("Knowledge base")
status_line(svc)

browse, upload = st.tabs(["Browse", "Your notes"])
with browse:
    step = st.selectbox(
        "Framework step", list(Step), format_func=lambda s: f"{s.number}. {s.label}"
    )
    items = sorted(svc.store.items({"kind": "concept", "step": step.value}), key=lambda i: i.id)
    st.caption(f"{len(items)} concept questions")
    for item in items:
        with st.expander(item.question):
            st.markdown(item.model_answer or "")
            st.markdown("**Rubric**")
            for point in item.rubric:
                st.markdown(f"- ({point.weight:g}) {point.text}")
            st.caption("Tags: " + ", ".join(item.tags) + f" · difficulty: {item.difficulty.value}")

with upload:
    files = st.file_uploader(
        f"Upload notes ({', '.join(SUPPORTED)}; up to {MAX_MB} MB each)",
        type=[s.lstrip(".") for s in SUPPORTED],
        accept_multiple_files=True,
    )
    if files and st.button("Ingest", type="primary"):
        saved, bar = [], st.progress(0.0, text="Saving uploads…")
        for f in files:
            try:
                saved.append(
                    save_upload(
                        svc.settings.uploads_dir,
                        f.name,
                        f.getvalue(),
                        max_bytes=MAX_MB * 1024 * 1024,
                    )
                )
            except LoadError as exc:
                st.error(f"{f.name}: {exc.reason}")

        def progress(label: str, done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Ingesting {label}")

        report = ingest_paths(svc.settings, saved, store=svc.store, progress=progress)
        bar.empty()
        for rec in report.added + report.updated:
            st.success(f"{rec.title}: {rec.n_chunks} passages, {rec.n_items} extracted questions")
        for exc in report.failed:
            st.error(f"{exc.path}: {exc.reason}")
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
                    st.markdown(f"- {item.question} ({len(item.rubric)} points)")

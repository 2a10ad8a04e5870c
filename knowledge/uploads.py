"""Save uploaded files under the data directory, whatever name the browser sent."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from knowledge.loaders import DEFAULT_MAX_BYTES, SUPPORTED, LoadError


def safe_name(filename: str) -> str:
    """A plain file name: no directories, no dot-files, no odd characters."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:80] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_upload(
    uploads_dir: Path, filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Path:
    """Write the upload into `uploads_dir` and return its path; refuse bad types and sizes."""
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(
            filename, f"unsupported file type {suffix or '(none)'}; use one of {SUPPORTED}"
        )
    if len(data) > max_bytes:
        raise LoadError(filename, f"file is over the {max_bytes / 1e6:.0f} MB limit")
    if not data.strip():
        raise LoadError(filename, "file is empty")
    uploads_dir.mkdir(parents=True, exist_ok=True)
    # The content hash keeps two different files with the same name apart.
    digest = hashlib.sha256(data).hexdigest()[:8]
    target = (uploads_dir / f"{Path(name).stem}-{digest}{suffix}").resolve()
    if uploads_dir.resolve() not in target.parents:
        raise LoadError(filename, "refusing to write outside the uploads folder")
    target.write_bytes(data)
    return target

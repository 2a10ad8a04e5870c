"""Read user documents (Markdown, text, HTML, PDF) into plain text with light structure.

Every failure is a `LoadError` with a reason a person can act on; the caller
decides whether to skip the file and go on.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 500
TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = sorted([*TEXT_SUFFIXES, *HTML_SUFFIXES, ".pdf"])


class LoadError(Exception):
    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Document:
    source_id: str
    title: str
    path: str
    text: str
    kind: str
    sha256: str


def source_id_for(path: Path) -> str:
    """A stable id for a file: its resolved path, so the same file always maps to one source."""
    return "file:" + str(path.resolve())


def load_document(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, source_id: str | None = None
) -> Document:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix not in HTML_SUFFIXES and suffix != ".pdf":
        raise LoadError(path, f"unsupported file type {suffix or '(none)'}; use one of {SUPPORTED}")
    try:
        if not path.is_file():
            raise LoadError(path, "not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(
                path, f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
            )
        raw = path.read_bytes()
    except PermissionError as exc:
        raise LoadError(path, "permission denied") from exc
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise LoadError(path, "file is empty")
    if suffix == ".pdf":
        text, kind = _pdf_text(path, raw), "pdf"
    elif suffix in HTML_SUFFIXES:
        text, kind = html_to_text(_decode(path, raw)), "html"
    else:
        text, kind = _decode(path, raw), TEXT_SUFFIXES[suffix]
    text = _normalise(text)
    if len(text.strip()) < 20:
        raise LoadError(path, "no readable text in the file")
    return Document(
        source_id=source_id or source_id_for(path),
        title=guess_title(text, path),
        path=str(path),
        text=text,
        kind=kind,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "looks like a binary file, not text (it contains NUL bytes)")
    if raw.startswith((b"%PDF-", b"PK\x03\x04", b"\x7fELF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
        raise LoadError(path, "binary content disguised under a text extension")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    sample = text[:8192]
    control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if sample and (control / len(sample) > 0.05 or sample.count("\ufffd") / len(sample) > 0.05):
        raise LoadError(path, "looks like a binary file, not text")
    return text


def _pdf_text(path: Path, raw: bytes) -> str:
    if not raw.startswith(b"%PDF-"):
        raise LoadError(path, "not a PDF file (missing the %PDF- header)")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(path, "the PDF is encrypted; remove the password and try again")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(path, f"the PDF has {len(reader.pages)} pages (limit {MAX_PDF_PAGES})")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(path, f"the PDF is damaged or unreadable: {exc}") from exc
    except Exception as exc:  # pypdf raises many internal types on hostile files
        raise LoadError(path, f"the PDF could not be parsed: {type(exc).__name__}") from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise LoadError(path, "the PDF has no extractable text (is it a scan?)")
    return text


_BOILERPLATE_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
)
_BOILERPLATE_HINT = re.compile(
    r"(^|[-_ ])(nav|menu|footer|header|sidebar|cookie|banner|subscribe|share|social|advert|ads|"
    r"breadcrumb|related|comments?)([-_ ]|$)",
    re.I,
)


def html_to_text(html: str) -> str:
    """Strip boilerplate and keep structure as Markdown-like text (headings, bullets)."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(_BOILERPLATE_TAGS)):
        tag.decompose()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        classes: list[str] | str = tag.get("class") or []
        if isinstance(classes, str):
            classes = [classes]
        marker = " ".join([*classes, str(tag.get("id", "")), str(tag.get("role", ""))])
        if _BOILERPLATE_HINT.search(marker) and tag.name not in ("body", "main", "article", "html"):
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if title and not root.find(["h1"]):
        lines.append(f"# {title}")
    for el in root.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "dt", "dd", "td"]
    ):
        if el.find_parent(["li", "p", "pre", "blockquote"]) is not None and el.name != "li":
            continue
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name.startswith("h"):
            lines.append(f"\n{'#' * int(el.name[1])} {text}\n")
        elif el.name == "li":
            depth = len(el.find_parents(["ul", "ol"])) - 1
            own = " ".join(
                s.strip() for s in el.find_all(string=True, recursive=False) if s.strip()
            )
            lines.append(f"{'  ' * max(depth, 0)}- {own or text}")
        else:
            lines.append(f"\n{text}\n")
    return "\n".join(lines)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{4,}", "\n\n\n", text)


def guess_title(text: str, path: Path) -> str:
    """The first Markdown heading, else the first line that reads like a title."""
    from knowledge.chunking import BOILERPLATE

    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines[:40]:
        if line.startswith("# "):
            return line[2:].strip()[:120]
    for line in lines[:40]:
        plain = line.lstrip("#").strip()
        if (
            len(plain.split()) >= 2
            and not plain.startswith(("-", "*", "•", "✦", "["))
            and "](" not in plain
            and not BOILERPLATE.match(plain)
        ):
            return plain[:120]
    return path.stem

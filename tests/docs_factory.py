"""Build small real documents (PDF included) for ingestion tests."""

from __future__ import annotations

import io
from pathlib import Path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A minimal valid one-page PDF with Helvetica text, built by hand."""
    body = ["BT /F1 11 Tf 72 740 Td 14 TL"]
    body += [f"({_pdf_escape(line)}) Tj T*" for line in lines]
    body.append("ET")
    stream = "\n".join(body).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    path.write_bytes(out.getvalue())
    return path


def make_encrypted_pdf(path: Path, source: Path, password: str = "s3cret") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


QA_NOTES = """# Drift notes

## Monitoring

1. How do you detect data drift in production?

- Compare live feature distributions with the training distribution using PSI or a KS test.
- Track the prediction distribution, since it shifts before labels arrive.
- Alert when a drift score crosses a threshold agreed with the model owners.

2. How do you decide when to retrain a model?

- Retrain on a schedule when labels arrive steadily and drift is gradual.
- Trigger retraining when monitored performance drops below an agreed floor.
"""

HTML_PAGE = """<!doctype html><html><head><title>Serving notes</title>
<script>var tracking = "should never be indexed";</script><style>body{}</style></head>
<body><nav class="top-nav"><a href="/">Home</a> <a href="/blog">Blog</a></nav>
<header id="site-header">Site header with subscribe button</header>
<main><h1>Online versus batch prediction</h1>
<p>Batch prediction precomputes scores on a schedule and serves them from a cache.</p>
<h2>When to choose online prediction</h2>
<ul><li>When inputs are only known at request time.</li><li>When freshness matters more than cost.</li></ul>
</main><div class="cookie-banner">We use cookies</div>
<footer>Copyright footer text</footer></body></html>
"""

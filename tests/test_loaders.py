from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import LoadError, load_document
from knowledge.uploads import safe_name, save_upload
from tests.docs_factory import HTML_PAGE, make_encrypted_pdf, make_pdf


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    pdf = make_pdf(
        tmp_path / "notes.pdf", ["Shadow deployment mirrors live traffic.", "Users never see it."]
    )
    doc = load_document(pdf)
    assert doc.kind == "pdf"
    assert "Shadow deployment mirrors live traffic." in doc.text


def test_html_boilerplate_is_stripped(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(HTML_PAGE)
    doc = load_document(page)
    assert "# Online versus batch prediction" in doc.text
    assert "- When inputs are only known at request time." in doc.text
    for junk in ("tracking", "Home", "subscribe", "cookies", "Copyright"):
        assert junk not in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        pytest.param("empty.md", b"   \n", "empty", id="empty"),
        pytest.param("bin.md", b"\x00\x01\x02binary\x00" * 50, "binary", id="nul-bytes"),
        pytest.param(
            "fake.txt", b"%PDF-1.4 pretending to be text" * 10, "disguised", id="pdf-as-txt"
        ),
        pytest.param("elf.md", b"\x7fELF" + b"\x01" * 200, "disguised", id="elf-as-md"),
        pytest.param("bad.pdf", b"%PDF-1.4\n garbage garbage", "PDF", id="truncated-pdf"),
        pytest.param(
            "x.pdf", b"this is not a pdf at all", "missing the %PDF- header", id="not-pdf"
        ),
        pytest.param("tool.exe", b"MZ....", "unsupported file type", id="unsupported"),
    ],
)
def test_bad_files_have_specific_errors(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_document(path)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["secret notes about quantization"])
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", plain)
    with pytest.raises(LoadError, match="encrypted"):
        load_document(locked)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_text("word " * 3000)
    with pytest.raises(LoadError, match="over the"):
        load_document(big, max_bytes=1000)


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        ("/abs/path/notes.MD", "notes.md"),
        (".hidden.md", "hidden.md"),
        ("we!rd na$me;rm -rf.md", "we_rd na_me_rm -rf.md"),
    ],
)
def test_upload_names_are_made_safe(hostile: str, expected: str) -> None:
    assert safe_name(hostile) == expected


def test_uploads_never_leave_the_folder(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    saved = save_upload(uploads, "../../../../tmp/escape.md", b"# Notes\n\nSome real content here.")
    assert saved.parent == uploads.resolve()
    assert not (tmp_path / "escape.md").exists()
    with pytest.raises(LoadError, match="unsupported"):
        save_upload(uploads, "payload.sh", b"echo hi")
    with pytest.raises(LoadError, match="limit"):
        save_upload(uploads, "big.md", b"x" * 2000, max_bytes=1000)

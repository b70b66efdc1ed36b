"""Tests of tests/site_check.py on small hand-made sites in tmp_path.

They need Debian's Chromium and Playwright; outside CI they are skipped when
either is missing, in CI (CI=true) they always run.
"""

import importlib.util
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import site_check  # noqa: E402 (after the sys.path change)

SCRIPT = Path(__file__).parent / "site_check.py"
IN_CI = os.environ.get("CI") == "true"
MISSING = [what for what, ok in [
    ("Chromium (apt-get install -y chromium)", site_check.chromium_available()),
    ("Playwright (pip install playwright)", importlib.util.find_spec("playwright") is not None),
] if not ok]
needs_browser = pytest.mark.skipif(
    bool(MISSING) and not IN_CI,
    reason=f"site check needs {' and '.join(MISSING)}; skipped outside CI only")


def png_bytes(width=2, height=2) -> bytes:
    """A small valid RGB PNG, made with zlib."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def html(body: str, title="t") -> str:
    """A minimal HTML page around `body`."""
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>" \
           f"<body>{body}</body></html>"


def make_site(root: Path, files: dict) -> Path:
    """Write `files` (path -> str or bytes) under root/site and return that folder."""
    site = root / "site"
    for name, content in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return site


def good_files() -> dict:
    """The pages of a small site with nothing wrong."""
    return {
        "index.html": html(
            "<h1 id='top-title'>Home</h1><img src='img/dot.png' alt='dot'>"
            "<a href='page2.html#sec'>section</a> <a href='#top-title'>up</a> "
            "<a href='sub/'>sub</a> <a href='sub'>sub again</a> "
            "<a href='mailto:a@b.c'>mail</a> <a href='https://example.com/x'>external</a>"
            "<a href='javascript:void(0)'>js</a>"),
        "page2.html": html("<p>text</p><h2 id='sec'>Section</h2><a name='old'></a>"
                           "<a href='index.html'>home</a> <a href='page2.html#old'>old</a>"),
        "sub/index.html": html("<a href='../index.html#top-title'>home</a>"
                               "<img src='../img/dot.png' loading='lazy'>"),
        "img/dot.png": png_bytes(),
        "style.css": "body { color: #333 }",
        # not a page: asset folders are skipped even when broken
        "site_libs/broken.html": html("<a href='nowhere.html'>x</a>"),
    }


def test_find_pages(tmp_path):
    site = make_site(tmp_path, good_files())
    assert site_check.find_pages(site) == ["index.html", "page2.html", "sub/index.html"]


@needs_browser
def test_good_site_passes(tmp_path):
    site = make_site(tmp_path, good_files())
    report = site_check.run_check(site)
    assert report.all_problems() == []
    assert [p.name for p in report.pages] == ["index.html", "page2.html", "sub/index.html"]
    assert sum(p.images for p in report.pages) == 2
    assert report.pages[0].links == 4  # mailto, javascript and external ones are not counted
    assert site_check.check_site(site) == []


@needs_browser
def test_external_resources_are_only_warnings(tmp_path):
    files = good_files()
    files["page2.html"] = html("<h2 id='sec'>S</h2><img src='https://example.com/logo.png'>"
                               "<script src='https://cdn.example.com/lib.js'></script>")
    report = site_check.run_check(make_site(tmp_path, files))
    assert report.all_problems() == []
    warnings = "\n".join(report.all_warnings())
    assert "example.com/logo.png" in warnings and "cdn.example.com/lib.js" in warnings


@needs_browser
def test_broken_images_are_reported(tmp_path):
    files = good_files()
    files["index.html"] = html("<img src='img/dot.png'><img src='img/missing.png'>"
                               "<img src='img/empty.png'><img src='img/garbage.png'>")
    files["img/empty.png"] = b""
    files["img/garbage.png"] = b"this is not a png"
    problems = site_check.check_site(make_site(tmp_path, files), pages=["index.html"])
    assert len(problems) == 3, problems
    text = "\n".join(problems)
    assert "img/missing.png" in text and "HTTP 404" in text
    assert "img/empty.png" in text and "0 bytes" in text
    assert "img/garbage.png" in text and "17 bytes" in text
    assert "dot.png'" not in text
    assert all(p.startswith("index.html: broken image") for p in problems)


@needs_browser
def test_broken_link_is_reported(tmp_path):
    files = good_files()
    files["page2.html"] = html("<a href='missing.html' id='sec'>gone</a> "
                               "<a href='index.html'>ok</a> <a href='nodir/'>no folder</a>")
    problems = site_check.check_site(make_site(tmp_path, files))
    assert len(problems) == 2, problems
    assert "page2.html: broken link missing.html (HTTP 404)" in problems
    assert "page2.html: broken link nodir/ (HTTP 404)" in problems


@needs_browser
def test_missing_anchor_is_reported(tmp_path):
    files = good_files()
    files["page2.html"] = html("<h2 id='sec'>S</h2><a href='index.html#nope'>x</a>"
                               "<a href='#also-nope'>y</a> <a href='#sec'>fine</a>")
    problems = site_check.check_site(make_site(tmp_path, files))
    assert len(problems) == 2, problems
    assert any("broken anchor index.html#nope" in p for p in problems)
    assert any("broken anchor page2.html#also-nope" in p for p in problems)


@needs_browser
def test_uncaught_exception_and_missing_css_are_reported(tmp_path):
    files = good_files()
    files["page2.html"] = ("<!doctype html><html><head><link rel='stylesheet' href='gone.css'>"
                           "</head><body id='sec'><script>throw new Error('boom')</script>"
                           "</body></html>")
    problems = site_check.check_site(make_site(tmp_path, files))
    assert len(problems) == 2, problems
    assert any("uncaught exception" in p and "boom" in p for p in problems)
    assert any("gone.css" in p and "HTTP 404" in p for p in problems)


@needs_browser
def test_command_line(tmp_path):
    site = make_site(tmp_path, good_files())
    ok = subprocess.run([sys.executable, str(SCRIPT), str(site)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok  index.html  (1 images, 4 internal links)" in ok.stdout
    assert "site check: 3 pages, 2 images, 7 links, 0 problems" in ok.stdout

    (site / "page2.html").write_text(html("<a href='missing.html'>x</a>"))
    bad = subprocess.run([sys.executable, str(SCRIPT), str(site), "--pages", "page2.html"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL  page2.html" in bad.stdout
    assert "broken link missing.html" in bad.stdout
    assert "site check: 1 pages, 0 images, 1 links, 1 problems" in bad.stdout


def test_missing_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HGAE_CHROMIUM", str(tmp_path / "nothing"))
    with pytest.raises(site_check.ChromiumNotFound, match="HGAE_CHROMIUM=.*apt-get install"):
        site_check.find_chromium()
    monkeypatch.delenv("HGAE_CHROMIUM")
    monkeypatch.setattr(site_check.shutil, "which", lambda name: None)
    monkeypatch.setattr(site_check.os.path, "isfile", lambda path: False)
    with pytest.raises(site_check.ChromiumNotFound, match="apt-get install -y chromium"):
        site_check.find_chromium()

"""Check a built static website in real headless Chromium.

Usage::

    python tests/site_check.py SITE_DIR [--pages index.html other.html ...]

The site folder is served over http on 127.0.0.1 (random free port) and each
page is opened in headless Chromium, driven by Playwright, the way a reader
would see it. For every page the checker verifies that:

* the page loads (HTTP 200, no navigation error, the load event fires);
* every ``<img>`` finished loading with ``naturalWidth > 0``;
* every internal link (same origin) is served with HTTP 200, directories
  resolving to their ``index.html``, and every ``#fragment`` names an element
  with that ``id`` (or ``name``) in the target page;
* no uncaught exception or console error happened.

All requests to hosts other than 127.0.0.1 are aborted, so the check never
waits on the network. Failures that only concern external resources are
printed as warnings and do not fail the check.

From pytest use ``check_site(site_dir, pages=None)``, which returns the list of
problems (empty when the site is fine).

Needs: ``pip install playwright`` (never ``playwright install``: the browser is
Debian's, ``apt-get install -y chromium``). ``HGAE_CHROMIUM`` may name another
Chromium binary.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urldefrag, urlsplit

HOST = "127.0.0.1"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Folders holding a site's libraries and assets: their .html files are not pages.
ASSET_DIRS = {"site_libs", "assets", "vendor", "vendors", "node_modules", "bower_components"}
PAGE_TIMEOUT_MS = 30_000
IMAGE_WAIT_MS = 10_000
# Requests Chromium makes on its own; a 404 for these is no problem of the site.
IGNORED_PATHS = {"/favicon.ico"}


class ChromiumNotFound(RuntimeError):
    """Raised when no Chromium binary (or no Playwright) is available."""


# ---------------------------------------------------------------- results


@dataclass
class PageResult:
    """What was found on one page."""

    name: str
    images: int = 0
    links: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    link_urls: list[str] = field(default_factory=list)


@dataclass
class SiteReport:
    """The results of checking a whole site."""

    pages: list[PageResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # site-wide, e.g. broken links
    warnings: list[str] = field(default_factory=list)

    def all_problems(self) -> list[str]:
        """Every problem, page by page, then the site-wide ones."""
        return [p for page in self.pages for p in page.problems] + self.problems

    def all_warnings(self) -> list[str]:
        """Every warning, page by page, then the site-wide ones."""
        return [w for page in self.pages for w in page.warnings] + self.warnings

    def summary(self) -> str:
        """The closing one-line summary."""
        images = sum(p.images for p in self.pages)
        links = sum(p.links for p in self.pages)
        return (f"site check: {len(self.pages)} pages, {images} images, {links} links, "
                f"{len(self.all_problems())} problems")


# ---------------------------------------------------------------- locating things


def find_chromium() -> str:
    """Path of the Chromium binary: $HGAE_CHROMIUM, else `chromium` on PATH."""
    override = os.environ.get("HGAE_CHROMIUM")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise ChromiumNotFound(f"HGAE_CHROMIUM={override} is not an executable file; unset it "
                               "to use Debian's chromium (`apt-get install -y chromium`)")
    candidates = [shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ChromiumNotFound(
        "Chromium not found: install Debian's browser with "
        "`apt-get update && apt-get install -y chromium` "
        "(or set HGAE_CHROMIUM to a Chromium binary). Do not run `playwright install`.")


def chromium_available() -> bool:
    """True when a Chromium binary can be found."""
    try:
        find_chromium()
        return True
    except ChromiumNotFound:
        return False


def find_pages(site_dir: Path) -> list[str]:
    """index.html first, then every other .html page, skipping asset folders."""
    pages = []
    for path in sorted(site_dir.rglob("*.html")):
        rel = path.relative_to(site_dir)
        if any(part in ASSET_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        pages.append(rel.as_posix())
    if "index.html" in pages:
        pages.remove("index.html")
    return ["index.html"] + pages


def page_url(origin: str, name: str) -> str:
    """The URL of page `name` (a path relative to the site root)."""
    return f"{origin}/{quote(name)}"


def is_local(url: str, origin: str) -> bool:
    """True for URLs served by our own server (or data:/blob:/about: URLs)."""
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return url.startswith(origin + "/") or url == origin


# ---------------------------------------------------------------- serving


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler without logging and without directory listings."""

    def log_message(self, *args):
        pass

    def list_directory(self, path):
        """A folder without index.html is a broken link target: answer 404."""
        self.send_error(404, "No index.html in this folder")


class QuietServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server that does not print client disconnects."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class SiteServer:
    """Serve a folder on 127.0.0.1 on a random free port, in a background thread."""

    def __init__(self, site_dir: Path):
        handler = functools.partial(QuietHandler, directory=str(site_dir))
        self.httpd = QuietServer((HOST, 0), handler)
        self.origin = f"http://{HOST}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def fetch(url: str) -> tuple[int, bytes, str, str]:
    """GET a local URL following redirects: (status, body, content type, final URL)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get_content_type(), resp.geturl()
    except urllib.error.HTTPError as err:
        return err.code, b"", "", url
    except OSError:
        return 0, b"", "", url


# ---------------------------------------------------------------- browser side

# Makes lazy images load now, waits until every image has settled (or a
# timeout passes), then describes them.
IMAGES_JS = """async (timeoutMs) => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
  const settled = img => img.complete ? Promise.resolve() : new Promise(res => {
    img.addEventListener('load', res, {once: true});
    img.addEventListener('error', res, {once: true});
  });
  await Promise.race([Promise.all(imgs.map(settled)),
                      new Promise(res => setTimeout(res, timeoutMs))]);
  return imgs.map(img => ({src: img.getAttribute('src') || '', url: img.currentSrc || img.src,
                           complete: img.complete, width: img.naturalWidth,
                           height: img.naturalHeight}));
}"""

LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"

IDS_JS = """() => Array.from(document.querySelectorAll('[id], a[name]'),
                         el => [el.id, el.localName === 'a' ? el.getAttribute('name') : null])
                  .flat().filter(Boolean)"""


def new_context(browser, origin: str):
    """A browser context that aborts every request leaving 127.0.0.1."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)

    def route(r):
        if is_local(r.request.url, origin):
            r.continue_()
        else:
            r.abort("blockedbyclient")

    context.route("**/*", route)
    return context


def _watch_page(page, result: PageResult, origin: str) -> dict[str, str]:
    """Record console errors, exceptions and failed requests of a page.

    Returns the dict (filled while the page runs) of local URLs that failed,
    with why, to be reported once the broken images are known.
    """
    bad_local: dict[str, str] = {}

    def on_console(msg):
        if msg.type != "error" or msg.text.startswith("Failed to load resource"):
            return  # failed loads are reported from the request events below
        url = (msg.location or {}).get("url", "")
        where = f" ({url})" if url else ""
        if "http" in msg.text and not _mentions_only_local(msg.text, origin):
            result.warnings.append(f"{result.name}: console error about an external resource: "
                                   f"{msg.text}{where}")
        else:
            result.problems.append(f"{result.name}: console error: {msg.text}{where}")

    def on_pageerror(err):
        result.problems.append(f"{result.name}: uncaught exception: {err}")

    def on_requestfailed(request):
        if is_local(request.url, origin):  # keep the HTTP status if there was one
            bad_local.setdefault(request.url, f"failed ({request.failure})")
        else:
            result.warnings.append(f"{result.name}: external request blocked: {request.url}")

    def on_response(response):
        if (response.status >= 400 and is_local(response.url, origin)
                and urlsplit(response.url).path not in IGNORED_PATHS):
            bad_local[response.url] = f"answered HTTP {response.status}"

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("requestfailed", on_requestfailed)
    page.on("response", on_response)
    return bad_local


def _mentions_only_local(text: str, origin: str) -> bool:
    """True when every http(s) URL in `text` is on our own origin."""
    words = [w.strip("'\"()<>,;") for w in text.split()]
    urls = [w for w in words if w.startswith(("http://", "https://"))]
    return all(is_local(u, origin) for u in urls)


def _check_images(page, result: PageResult, origin: str) -> set[str]:
    """Report images that did not load; returns the URLs of the broken ones."""
    images = page.evaluate(IMAGES_JS, IMAGE_WAIT_MS)
    result.images = len(images)
    broken = set()
    for img in images:
        if img["complete"] and img["width"] > 0:
            continue
        broken.add(img["url"])
        if not img["url"]:
            result.problems.append(f"{result.name}: image without src")
        elif is_local(img["url"], origin):
            result.problems.append(f"{result.name}: broken image {_describe_image(img)}")
        else:
            result.warnings.append(f"{result.name}: external image not loaded: {img['url']}")
    return broken


def _describe_image(img: dict) -> str:
    """src, HTTP status, byte size, content type and natural size of a broken image."""
    status, body, ctype, _ = fetch(img["url"])
    return (f"src={img['src']!r} (HTTP {status}, {len(body)} bytes, "
            f"{ctype or 'no content type'}, complete={img['complete']}, "
            f"natural size {img['width']}x{img['height']})")


def check_page(context, origin: str, name: str) -> PageResult:
    """Open one page; check that it loads, its images, console and exceptions.

    The page's internal links and element ids are stored on the result for
    the site-wide link check.
    """
    result = PageResult(name)
    page = context.new_page()
    bad_local = _watch_page(page, result, origin)
    try:
        url = page_url(origin, name)
        try:
            response = page.goto(url, wait_until="load")
        except Exception as err:  # playwright's Error and TimeoutError
            result.problems.append(f"{name}: navigation failed: {err}")
            return result
        if response is None or response.status != 200:
            status = response.status if response else "no response"
            result.problems.append(f"{name}: page not served (HTTP {status})")
            return result
        broken_images = _check_images(page, result, origin)
        for bad_url, why in bad_local.items():
            if bad_url not in broken_images and bad_url != url:
                result.problems.append(f"{name}: resource {bad_url} {why}")
        links = page.evaluate(LINKS_JS)
        result.link_urls = [u for u in links if _is_internal_link(u, origin)]
        result.links = len(result.link_urls)
        result.ids = set(page.evaluate(IDS_JS))
    finally:
        page.close()
    return result


def _is_internal_link(url: str, origin: str) -> bool:
    """Links worth checking: http(s) on our own origin."""
    return url.startswith(origin + "/")


# ---------------------------------------------------------------- links


class LinkChecker:
    """Check internal link targets, fetching (and opening) each one only once."""

    def __init__(self, context, origin: str, pages: list[PageResult]):
        self.context = context
        self.origin = origin
        self.ids: dict[str, set[str]] = {page_url(origin, p.name): p.ids for p in pages}
        self.targets: dict[str, tuple[int, str, bool]] = {}  # url -> target()

    def target(self, url: str) -> tuple[int, str, bool]:
        """(status, final URL after redirects, is HTML) of a link target."""
        if url not in self.targets:
            status, _, ctype, final = fetch(url)
            if final.endswith("/"):  # a folder: the server answered with its index.html
                final += "index.html"
            self.targets[url] = (status, final, ctype == "text/html")
        return self.targets[url]

    def ids_of(self, url: str) -> set[str]:
        """Element ids (and a[name]s) of an HTML page, opened in the browser once."""
        if url not in self.ids:
            page = self.context.new_page()
            try:
                page.goto(url, wait_until="load")
                self.ids[url] = set(page.evaluate(IDS_JS))
            except Exception:  # already reported as a page problem if it matters
                self.ids[url] = set()
            finally:
                page.close()
        return self.ids[url]

    def check(self, page: PageResult) -> list[str]:
        """Problems with the internal links of one page."""
        problems = []
        for link in dict.fromkeys(page.link_urls):  # distinct, in page order
            base, fragment = urldefrag(link)
            status, final, is_html = self.target(base)
            shown = link[len(self.origin) + 1:] or "/"
            if status != 200:
                problems.append(f"{page.name}: broken link {shown} (HTTP {status or 'error'})")
                continue
            if fragment and is_html and not self._has_anchor(final, unquote(fragment)):
                problems.append(f"{page.name}: broken anchor {shown} "
                                f"(no id or name {unquote(fragment)!r} in the target page)")
        return problems

    def _has_anchor(self, url: str, fragment: str) -> bool:
        """True when `fragment` is an id or name in page `url` (or is 'top')."""
        if fragment.lower() == "top":
            return True
        return fragment in self.ids_of(url)


# ---------------------------------------------------------------- the run


def run_check(site_dir, pages=None, progress=None) -> SiteReport:
    """Check `pages` of the site in `site_dir` (all pages when None).

    `progress`, if given, is called with each PageResult as it is checked.
    """
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "index.html").is_file() and not pages:
        return SiteReport(problems=[f"{site_dir}: no index.html"])
    names = [p.lstrip("/") for p in pages] if pages else find_pages(site_dir)
    executable = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise ChromiumNotFound("Playwright for Python is missing: `pip install playwright` "
                               "(but never `playwright install`)") from err

    report = SiteReport()
    with SiteServer(site_dir) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = new_context(browser, server.origin)
            for name in names:
                report.pages.append(check_page(context, server.origin, name))
            links = LinkChecker(context, server.origin, report.pages)
            for page in report.pages:
                page.problems.extend(links.check(page))
                if progress:
                    progress(page)
        finally:
            browser.close()
    return report


def check_site(site_dir, pages=None) -> list[str]:
    """Check a built site in headless Chromium; return the problems (empty when fine)."""
    return run_check(site_dir, pages).all_problems()


def print_page(page: PageResult) -> None:
    """One summary line per page, then its problems indented."""
    status = "FAIL" if page.problems else "ok"
    print(f"{status}  {page.name}  ({page.images} images, {page.links} internal links)")
    for problem in page.problems:
        print(f"        {problem}")


def grouped_warnings(warnings: list[str]) -> list[str]:
    """Merge warnings that only differ in their page ("x  (on 7 pages: a.html, ...)")."""
    pages: dict[str, list[str]] = {}
    for warning in warnings:
        page, _, what = warning.partition(": ")
        pages.setdefault(what, []).append(page)
    lines = []
    for what, where in pages.items():
        if len(where) == 1:
            lines.append(f"{where[0]}: {what}")
        else:
            shown = ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")
            lines.append(f"{what}  (on {len(where)} pages: {shown})")
    return lines


def main(argv=None) -> int:
    """Command line entry point: 0 when the site is fine, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site_dir", help="folder of the built site (with index.html)")
    parser.add_argument("--pages", nargs="+", metavar="PAGE",
                        help="pages to check, relative to SITE_DIR (default: all)")
    args = parser.parse_args(argv)
    if not Path(args.site_dir).is_dir():
        print(f"site check: {args.site_dir} is not a folder", file=sys.stderr)
        return 1
    start = time.monotonic()
    try:
        report = run_check(args.site_dir, args.pages, progress=print_page)
    except ChromiumNotFound as err:
        print(f"site check: {err}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(problem)
    for warning in grouped_warnings(report.all_warnings()):
        print(f"warning: {warning}")
    print(f"{report.summary()} ({time.monotonic() - start:.1f}s)")
    return 1 if report.all_problems() else 0


if __name__ == "__main__":
    sys.exit(main())

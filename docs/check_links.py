"""Check every internal link of the built site: the target file exists and, for ``#anchor`` links, holds the anchor;
and that no page loads a script, image or stylesheet from the network (the site must read offline).

Usage: ``python docs/check_links.py docs/site`` (after ``mkdocs build``); exits 1 listing the broken links.
External links (``http(s)://``, ``mailto:``) are not fetched: the site must read offline, so none of its
pages may depend on them, and CI has no network to check them with. A standard-library parser is enough for
the HTML that MkDocs writes; it keeps this check free of another dependency.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.external_assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        asset = found.get("src") if tag in ("script", "img") else (
            found.get("href") if tag == "link" and "stylesheet" in (found.get("rel") or "") else None)
        if asset and urlsplit(asset).scheme in ("http", "https", "") and asset.startswith(("http:", "https:", "//")):
            self.external_assets.append(asset)  # fetched when the page loads: the site would not read offline
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in ("href", "src") and tag != "link" or (tag == "link" and name == "href"):
                self.links.append(value)


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def _base_path(site: Path) -> str:
    """The path the site is served under (from ``site_url``, which MkDocs writes into the sitemap), e.g. ``/tnrnn/``."""
    sitemap = site / "sitemap.xml"
    text = sitemap.read_text(encoding="utf-8") if sitemap.is_file() else ""
    start = text.find("<loc>")
    if start < 0:
        return "/"
    path = urlsplit(text[start + 5:text.find("</loc>", start)]).path  # the first entry is the home page
    return path[: path.rfind("/") + 1] or "/"


def broken_links(site: Path) -> list[str]:
    """``"page: link"`` for every internal link of ``site`` whose file or anchor is missing."""
    cache: dict[Path, _Page] = {}
    bad = []
    base = _base_path(site)
    root = site.resolve()
    for page_path in sorted(site.rglob("*.html")):
        page = _parse(page_path, cache)
        bad += [f"{page_path.relative_to(site)}: {a} (loaded from the network)" for a in page.external_assets]
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            if not parts.path:
                target = page_path
            elif parts.path.startswith("/"):  # absolute: served under the site's base path (the 404 page uses these)
                if not parts.path.startswith(base):
                    bad.append(f"{page_path.relative_to(site)}: {link} (outside the site's base path {base})")
                    continue
                target = (root / unquote(parts.path[len(base):])).resolve()
            else:
                target = (page_path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                bad.append(f"{page_path.relative_to(site)}: {link}")
            elif (parts.fragment and target.suffix == ".html"
                  and unquote(parts.fragment) not in _parse(target, cache).ids):
                bad.append(f"{page_path.relative_to(site)}: {link} (no such anchor)")
    return bad


def main(argv: list[str]) -> int:
    """Check the site folder named in ``argv`` (default ``docs/site``); 0 when every internal link resolves."""
    site = Path(argv[1] if len(argv) > 1 else "docs/site")
    if not (site / "index.html").is_file():
        print(f"check_links: {site} holds no built site (run mkdocs build first)", file=sys.stderr)
        return 2
    bad = broken_links(site)
    for line in bad:
        print(f"broken link: {line}", file=sys.stderr)
    pages = len(list(site.rglob("*.html")))
    print(f"check_links: {pages} pages, {len(bad)} broken internal links")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The documentation's link check finds what it must: broken files, missing anchors, assets from the network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_links", ROOT / "docs" / "check_links.py")
check_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_links)


def _site(tmp_path: Path, pages: dict[str, str], url: str = "https://example.org/docs/") -> Path:
    for name, body in pages.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>")
    (tmp_path / "sitemap.xml").write_text(f"<urlset><url><loc>{url}</loc></url></urlset>")
    return tmp_path


def test_a_clean_site_passes(tmp_path):
    site = _site(tmp_path, {"index.html": '<a href="a/">a</a> <a href="a/#x">x</a> <a href="/docs/a/">abs</a>'
                                          '<script src="js/m.js"></script> <a href="https://example.com">ext</a>',
                            "a/index.html": '<h2 id="x">x</h2>', "js/m.js": ""})
    assert check_links.broken_links(site) == []
    assert check_links.main(["check_links", str(site)]) == 0


def test_broken_targets_anchors_and_network_assets_are_reported(tmp_path):
    site = _site(tmp_path, {"index.html": '<a href="b/">b</a> <a href="a/#y">y</a> <a href="/other/a/">out</a>'
                                          '<script src="https://cdn.example/mathjax.js"></script>',
                            "a/index.html": '<h2 id="x">x</h2>'})
    bad = check_links.broken_links(site)
    assert len(bad) == 4
    assert any("b/" in b for b in bad) and any("no such anchor" in b for b in bad)
    assert any("outside the site's base path" in b for b in bad) and any("from the network" in b for b in bad)
    assert check_links.main(["check_links", str(site)]) == 1


def test_mathjax_comes_from_an_installed_package_not_a_cdn():
    text = (ROOT / "docs" / "mkdocs.yml").read_text()
    assert "cdn." not in text and "javascripts/mathjax/tex-mml-chtml.js" in text and "site_url:" in text

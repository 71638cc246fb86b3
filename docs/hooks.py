"""MkDocs hooks: the API reference pages are generated from the package's modules at build time.

One page per subpackage of ``tnrnn`` (and one for the top-level modules), each rendering every public module
with mkdocstrings (``::: tnrnn.<module>``). The module list is read from the source tree when the site is built,
so the reference follows the code's layout without hand-kept lists. The command-line modules are documented
on the "Command line" page instead.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

PACKAGE = Path(__file__).resolve().parents[1] / "tnrnn"
SKIP_PACKAGES = {"cli"}  # documented by `tnrnn COMMAND --help` and docs/pages/cli.md
SKIP_MODULES = {"__main__", "tnrnn.sweep.demo"}  # entry point; toy tasks of the sweep runner's tests


def _is_public(path: Path) -> bool:
    return not (path.stem.startswith("_") and path.stem != "__init__")


def api_groups() -> dict[str, list[str]]:
    """``{page name: [module, ...]}``: one page per subpackage, plus ``tnrnn`` for the top-level modules."""
    groups: dict[str, list[str]] = {"tnrnn": []}
    for path in sorted(PACKAGE.glob("*.py")):
        if _is_public(path) and path.stem not in ("__init__", "__main__"):
            groups["tnrnn"].append(f"tnrnn.{path.stem}")
    for sub in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        if sub.name in SKIP_PACKAGES:
            continue
        modules = [f"tnrnn.{sub.name}"]
        for path in sorted(sub.glob("*.py")):
            name = f"tnrnn.{sub.name}.{path.stem}"
            if _is_public(path) and path.stem != "__init__" and name not in SKIP_MODULES:
                modules.append(name)
        groups[f"tnrnn.{sub.name}"] = modules
    return groups


def _page(title: str, modules: list[str]) -> str:
    body = [f"# {title}", ""]
    for module in modules:
        body += [f"::: {module}", "    options:", "      show_root_heading: true", "      heading_level: 2"]
        if module.count(".") == 1 and (PACKAGE / module.split(".")[1]).is_dir():
            # a subpackage: its docstring only; its re-exports are documented where they are defined
            body.append("      members: false")
        body.append("")
    return "\n".join(body)


def _summary(module: str) -> str:
    """First line of a module's docstring, read without importing it."""
    parts = module.split(".")[1:]
    path = PACKAGE.joinpath(*parts)
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _index(groups: dict[str, list[str]]) -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings (numpy style) at every build. The top-level names "
             "(`tnrnn.separation_rank`, `tnrnn.build_network`, ...) are re-exported from the modules below; "
             "`import tnrnn` stays cheap because they are loaded on first use. The command-line modules are "
             "described on the [Command line](../cli.md) page.", "",
             "| module | what it holds |", "|---|---|"]
    for name, modules in groups.items():
        for module in modules:
            summary = _summary(module).replace("|", "\\|")
            lines.append(f"| [`{module}`]({name}.md#{module}) | {summary} |")
    return "\n".join(lines) + "\n"


def on_config(config, **kwargs):
    """Point the "API reference" section of the navigation at the generated pages."""
    pages = ["api/index.md"] + [f"api/{name}.md" for name in api_groups()]
    for i, item in enumerate(config.nav or []):
        if isinstance(item, dict) and "API reference" in item:
            config.nav[i] = {"API reference": pages}
    return config


#: MathJax, served from the site: the combined TeX/MathML component and the fonts it loads from its own folder.
MATHJAX_FILES = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2/*.woff")


def mathjax_dir() -> Path:
    """MathJax's ``es5`` folder in the installed django-static-mathjax package (the docs extra).

    A package from PyPI rather than a CDN: the built site then renders its formulas offline, and the MathJax
    version is pinned by the docs extra like every other dependency.
    """
    spec = importlib.util.find_spec("mathjax")
    folder = None if spec is None or not spec.submodule_search_locations else (
        Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5")
    if folder is None or not (folder / MATHJAX_FILES[0]).is_file():
        raise PluginError("MathJax not found: install the docs extra (pip install -e \".[docs]\"), which brings "
                          "django-static-mathjax")
    return folder


def _mathjax_files(config) -> list[File]:
    src = mathjax_dir()
    dest = Path(config.site_dir) / "javascripts" / "mathjax"
    paths = sorted({p.relative_to(src).as_posix() for pattern in MATHJAX_FILES for p in src.glob(pattern)})
    return [File(p, str(src), str(dest), config.use_directory_urls) for p in paths]


def on_files(files, config, **kwargs):
    """Add the generated index, one generated page per group of modules, and MathJax."""
    for f in _mathjax_files(config):
        files.append(f)
    groups = api_groups()
    files.append(File.generated(config, "api/index.md", content=_index(groups)))
    for name, modules in groups.items():
        title = "tnrnn (top-level modules)" if name == "tnrnn" else name
        files.append(File.generated(config, f"api/{name}.md", content=_page(title, modules)))
    return files

"""The README's test command works on a fresh clone: ``pip install -e ".[test]"`` brings every library the suite
imports, and ``.ci/run`` runs exactly the README's two set-up commands."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirement(req: str) -> tuple[str, set[str]]:
    """``(distribution name, extras)`` of a requirement line such as ``dask[distributed]>=2024.1``."""
    m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", req)
    assert m is not None, req
    extras = {e.strip() for e in (m.group(2) or "").split(",") if e.strip()}
    return m.group(1).lower().replace("_", "-"), extras


def _declared(extras: tuple[str, ...]) -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in extras:
        lines += cfg["options.extras_require"][extra].splitlines()
    return [r.strip() for r in lines if r.strip() and not r.strip().startswith("#")]


def _closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` install: themselves and what they require in the installed environment
    (unconditionally, or through an extra they name)."""
    seen: set[tuple[str, frozenset]] = set()
    todo = [_requirement(r) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for r in requires:
            marker = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", r)
            if marker is None or marker.group(1) in extras:
                todo.append(_requirement(r))
    return {name for name, _ in seen}


def _imported_modules(files) -> dict[str, str]:
    """Top-level modules imported anywhere in ``files`` (also inside functions, and ``pytest.importorskip``
    targets), except imports guarded by ``except ImportError``: ``{module: first file}``."""
    found: dict[str, str] = {}
    for path in files:
        tree = ast.parse(path.read_text())
        guarded: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(
                h.type is not None and re.search(r"ImportError|ModuleNotFoundError", ast.unparse(h.type))
                for h in node.handlers
            ):
                guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            names: list[str] = []
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("importorskip") and node.args
                  and isinstance(node.args[0], ast.Constant)):
                names = [str(node.args[0].value)]
            for name in names:
                found.setdefault(name.split(".")[0], path.name)
    return found


def test_the_test_extra_brings_every_library_the_suite_imports():
    # A module the tests or the doctested package import (or importorskip) must come with `pip install -e
    # ".[test]"`; otherwise the README's test command fails, or silently skips, on a fresh clone.
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("tnrnn/**/*.py"), ROOT / "conftest.py"]
    third_party = {m: f for m, f in _imported_modules(files).items()
                   if m not in sys.stdlib_module_names and m not in ("tnrnn", "tests", "_pytest")}
    assert {"numpy", "pytest", "cotengra", "quimb"} <= set(third_party)  # the scan sees imports
    provided = _closure(_declared(("test",)))
    by_module = metadata.packages_distributions()
    missing = {m: f for m, f in third_party.items()
               if not {d.lower().replace("_", "-") for d in by_module.get(m, [m])} & provided}
    assert not missing, f"imported by the suite but not installed by [test]: {missing}"


def test_the_scan_reports_a_library_outside_the_test_extra(tmp_path):
    # The check above can fail: an importorskip of a library no extra of [test] brings is seen, and is not provided.
    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\ndef test_x():\n    pytest.importorskip('flax')\n"
                     "    try:\n        import kahypar\n    except ImportError:\n        pass\n")
    found = _imported_modules([probe])
    assert "flax" in found and "kahypar" not in found
    assert "flax" not in _closure(_declared(("test",)))


def test_ci_runs_the_readme_set_up_commands_verbatim():
    readme = (ROOT / "README.md").read_text()
    setup = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1).strip().splitlines()
    assert len(setup) == 2 and setup[0].endswith("tnrnn demo")
    assert 'pip install -q -e ".[test]"' in setup[1] and setup[1].endswith("pytest -q -n 2")
    ci = (ROOT / ".ci" / "run").read_text()
    # .ci/run reads the README's first bash block and runs each line; the lint and docs extras come after.
    assert "awk '/^```bash$/" in ci and 'bash -euo pipefail -c "$cmd"' in ci
    assert ci.index('"${setup[@]}"') < ci.index('".[lint,docs]"')
    assert "interop" not in ci.split('".[lint,docs]"')[0]


def test_lazy_exports_are_typed_and_packaged():
    # The lazily loaded top-level names are also imported under TYPE_CHECKING, so type checkers and IDEs see
    # their real types; the two lists must agree, and py.typed ships with the package.
    import tnrnn

    tree = ast.parse((ROOT / "tnrnn" / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {(node.module, a.name) for node in ast.walk(block) if isinstance(node, ast.ImportFrom)
             for a in node.names if a.asname == a.name}
    assert typed == {(module, name) for name, module in tnrnn._EXPORTS.items()}
    assert (ROOT / "tnrnn" / "py.typed").is_file()
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert "py.typed" in cfg["options.package_data"]["tnrnn"]


def test_versions_agree_across_package_citation_and_changelog():
    import tnrnn

    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(tnrnn.__version__)}$", citation, flags=re.M)
    released = re.search(r"^date-released: \"?(\d{4}-\d{2}-\d{2})\"?$", citation, flags=re.M)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    latest = re.search(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.M)
    assert latest and released and latest.groups() == (tnrnn.__version__, released.group(1))
    assert "v<version>" in changelog or "`v0.2.0`" in changelog  # the tag scheme is written down


def test_the_numba_kernel_is_not_a_collection_error_without_numba():
    # numba is an optional speed-up ([fast]); without it the suite's doctest collection must skip its kernel
    import subprocess
    import sys

    code = ("import sys; sys.modules['numba'] = None\nimport pytest\n"
            "sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', 'tnrnn/bounds']))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:]
    assert "_gfp_numba" not in res.stdout and "tnrnn/bounds/gfp_kernel.py" in res.stdout

"""Rewrite Sphinx roles in the package's docstrings as cross-references that mkdocstrings renders.

``:func:`find_path``` is plain text to mkdocstrings (the API reference showed about 490 of them raw). Each role
in a docstring of ``tnrnn/`` becomes

* ``[`find_path`][tnrnn.network.paths.find_path]`` (a rendered link) when its target, resolved as Python would
  from where the docstring sits (griffe's static view of the package: the object's members, its parents',
  the module's imports, then a full path), is an object the API reference documents (the site's
  ``objects.inv``);
* ``` `find_path` ``` (a code span) otherwise: private helpers, constants without a docstring, other libraries.

``~a.b.c`` shows ``c``, as in Sphinx. Only docstrings are rewritten (comments keep their roles), and a file is
left alone when git reports it modified or untracked (someone else may be editing it); run the script again
later for those. Usage::

    python docs/sphinx_roles.py [--check] [INVENTORY]   # INVENTORY: docs/site/objects.inv (build the site first)

``--check`` rewrites nothing and exits 1 listing the docstrings that still hold roles.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|data|attr|exc|obj|const):`([^`]+)`")


def documented(inventory: Path) -> set[str]:
    """The object paths the built site documents (Sphinx inventory v2 written by mkdocstrings)."""
    data = inventory.read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    return {line.split(" ", 1)[0] for line in zlib.decompress(data[header_end:]).decode().splitlines() if line}


def _scopes(obj: Any) -> list:
    """``obj`` and its parents up to the module: where a name in its docstring is looked up."""
    out = []
    while obj is not None:
        out.append(obj)
        obj = obj.parent
    return out


def _final(obj: Any) -> str | None:
    try:
        return obj.final_target.path if obj.is_alias else obj.path
    except Exception:  # an alias to another library, or to nothing griffe can load
        return None


def resolve(package: Any, scope: Any, target: str) -> str | None:
    """The canonical path of ``target`` as seen from ``scope``, or None."""
    name = target.lstrip("~.")
    head, *rest = name.split(".")
    candidates = []
    for s in _scopes(scope):
        members = getattr(s, "members", {})
        if head in members:
            candidates.append(members[head])
            break
    if not candidates and name.startswith(package.name + "."):
        try:
            candidates.append(package[name[len(package.name) + 1:]])
            rest = []
        except Exception:
            return None
    if not candidates:
        return None
    obj = candidates[0]
    for part in rest:
        try:
            obj = obj.final_target if obj.is_alias else obj
            obj = obj.members[part]
        except Exception:
            return None
    return _final(obj)


def _display(target: str) -> str:
    return target[1:].rsplit(".", 1)[-1] if target.startswith("~") else target.lstrip(".")


def rewrite_docstring(text: str, package: Any, scope: Any, known: set[str]) -> str:
    """``text`` with every role replaced by a cross-reference or a code span."""
    def repl(m: re.Match) -> str:
        target = m.group(2).strip()
        shown = _display(target)
        path = resolve(package, scope, target)
        if path is None and target.lstrip("~") in known:
            path = target.lstrip("~")
        return f"[`{shown}`][{path}]" if path in known else f"`{shown}`"

    return ROLE.sub(repl, text)


def _docstring_nodes(tree: ast.Module) -> list[tuple[ast.Constant, list[str]]]:
    """(docstring node, dotted path of its owner inside the module)."""
    out = []

    def visit(node: Any, path: list[str]) -> None:
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            out.append((body[0].value, path))
        for child in body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*path, child.name])

    visit(tree, [])
    return out


def _dirty() -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--", "tnrnn"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return {line[3:] for line in out.splitlines() if line[:2].strip()}  # modified, added or untracked


def process(path: Path, package: Any, known: set[str], check: bool) -> int:
    """Rewrite (or, with ``check``, count) the roles in the docstrings of one module; returns the count."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    module = package
    for p in parts[1:]:
        module = module.members[p]
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode("utf-8")))
    raw = source.encode("utf-8")
    edits = []
    count = 0
    for node, owner in _docstring_nodes(tree):
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        segment = raw[start:end].decode("utf-8")
        n = len(ROLE.findall(segment))
        if not n:
            continue
        count += n
        scope = module
        for name in owner:
            scope = scope.members.get(name, scope)
        edits.append((start, end, rewrite_docstring(segment, package, scope, known)))
    if edits and not check:
        for start, end, new in sorted(edits, reverse=True):
            raw = raw[:start] + new.encode("utf-8") + raw[end:]
        new_source = raw.decode("utf-8")
        ast.parse(new_source)  # still valid Python
        path.write_text(new_source, encoding="utf-8")
    return count


def main(argv: list[str]) -> int:
    """Rewrite (or check) every module of ``tnrnn/``; see the module docstring."""
    import griffe

    check = "--check" in argv
    args = [a for a in argv[1:] if not a.startswith("--")]
    known = documented(Path(args[0]) if args else ROOT / "docs" / "site" / "objects.inv")
    package = griffe.load("tnrnn", search_paths=[str(ROOT)], resolve_aliases=True, resolve_external=False)
    dirty = set() if check else _dirty()
    total, skipped = 0, []
    for path in sorted((ROOT / "tnrnn").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in dirty:
            skipped.append(rel)
            continue
        n = process(path, package, known, check)
        total += n
        if n and check:
            print(f"{rel}: {n} Sphinx role(s) in docstrings")
    verb = "found" if check else "rewrote"
    print(f"sphinx_roles: {verb} {total} role(s)" + (f"; left alone (uncommitted changes): {skipped}" if skipped
                                                     else ""))
    return 1 if check and total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

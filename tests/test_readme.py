"""The README's Python example runs and its assertions hold (documentation that cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README lost its Python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})


def test_readme_opens_with_the_two_setup_commands():
    first = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert first[0].endswith("tnrnn demo") and "pytest" in first[1]
    # .ci/run runs these two lines as written (tests/test_packaging.py checks that)


def test_readme_network_check_fails_when_the_outputs_are_zeros():
    # The example's comparison with the recurrence must be able to fail: with y replaced by zeros it does.
    code = next(b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S) if "network_forward" in b)
    line = next(ln for ln in code.splitlines() if ln.startswith("y = tnrnn.network_forward("))
    zeros = line + "\ny = y._replace(mantissa=y.mantissa * 0)"
    broken = code.replace(line, zeros)
    assert broken != code
    try:
        exec(compile(broken, str(README), "exec"), {})
    except AssertionError:
        return
    raise AssertionError("the README example accepts zero outputs")

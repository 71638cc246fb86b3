"""Regenerate the tutorials' figures (docs/pages/figures/) and printed output (docs/tutorials/output/).

Run from anywhere:  .venv/bin/python docs/tutorials/run_all.py [NAME ...]

Each tutorial runs in its own process, exactly as a reader would run it; its standard output is what the
documentation pages show under "Output". tests/docs/test_tutorials.py runs the same scripts and checks their
numbers.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TUTORIALS = ["rank_vs_depth", "network_cut", "memory_run", "capacity", "own_network"]


def main(names: list[str]) -> int:
    """Run the named tutorials (all by default); write their output; 1 on the first failure."""
    for name in names or TUTORIALS:
        proc = subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(f"{name}: failed (exit {proc.returncode})\n{proc.stderr}")
            return 1
        (HERE / "output").mkdir(exist_ok=True)
        (HERE / "output" / f"{name}.txt").write_text(proc.stdout)
        print(f"{name}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

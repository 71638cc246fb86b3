"""Tutorial 3: one short empirical memory run on Start-End Similarity, with accuracy per class.

Run from the repository root:  .venv/bin/python docs/tutorials/memory_run.py [FIGURE_DIR]
"""

import sys
from pathlib import Path

from matplotlib.figure import Figure

import tnrnn

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pages" / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)

# The authors' task, shrunk to run in seconds: T = 10 steps over 4 symbols (plus a blank), two compared
# positions T/2 apart at a random offset; three balanced classes (0, 1 or 2 matching positions), chance 1/3.
task = tnrnn.make_task("ses", time=10, symbols=4, span=2)
config = tnrnn.TrainConfig(steps=300, eval_every=50, batch_size=64, learning_rate=3e-3,
                           eval_batch_size=512, test_batch_size=999, seed=0)
result = tnrnn.train_task(task, "gru", 2, 16, config, progress=False)

test = result.extra["test"]
print(f"GRU, depth 2, width 16 ({result.extra['num_params']} parameters), {result.steps_done} Adam steps")
print(f"chance {test['chance']:.3f}")
print(f"test accuracy {test['accuracy']:.3f} on {sum(test['class_counts'].values())} sequences")
for name, acc in test["per_class"].items():
    print(f"  class {name} matching: accuracy {acc:.3f} ({test['class_counts'][name]} sequences)")
print(f"no-agreement vs half-agreement accuracy {test['no_vs_half_accuracy']:.3f}")

# Held-out accuracy during training, and the test accuracy per class.
fig = Figure(figsize=(8, 3.2), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
steps = [h["step"] for h in result.history]
ax1.plot(steps, [h["eval_accuracy"] for h in result.history], marker="o")
ax1.axhline(test["chance"], color="grey", ls="--", label="chance")
ax1.set(xlabel="training step", ylabel="held-out accuracy", ylim=(0, 1.02), title="training")
ax1.legend(loc="lower right")
names = list(test["per_class"])
ax2.bar([f"{n} match" for n in names], [test["per_class"][n] for n in names], color="tab:blue")
ax2.axhline(test["chance"], color="grey", ls="--")
ax2.set(ylabel="test accuracy", ylim=(0, 1.02), title="test accuracy per class")
path = FIGURES / "memory_run.png"
fig.savefig(path, dpi=110)
print(f"figure: {path.name}")

"""The authors' training protocol: plateau decay of the learning rate, early stop at the second plateau, and
the best-validation parameters reported (Levine et al., arXiv 1710.09431, released code; docs/theory.md,
'Long-term memory tasks').

[`Plateau`][tnrnn.memory.protocol.Plateau] is the host-side bookkeeping [`tnrnn.memory.train.train`][tnrnn.memory.train.train] runs after every evaluation
check: it tracks the best validation loss and counts checks without improvement; after ``patience`` of them
it declares a plateau (the learning rate is multiplied by ``factor``), and at the ``max_plateaus``-th plateau
it stops the run. The learning-rate factor itself lives in the optimiser state (an
``optax.inject_hyperparams(optax.scale)`` at the end of [`tnrnn.memory.train.make_optimizer`][tnrnn.memory.optim.make_optimizer]), so the
compiled training chunk never changes.

`PROTOCOLS` holds the training presets: ``authors`` is the published protocol (RMSProp with decay 0.9,
learning rate 1e-3, batch 128, up to 50k steps, an evaluation every 1000 steps, patience 10, validation set
5,000, test set 10,000); ``scaled`` is the same protocol with sizes that fit a shared 2-core CPU, the one of
the studies in ``diagrams/``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

#: An improvement smaller than this (absolute, in validation loss) does not reset the patience counter.
MIN_DELTA = 1e-4

#: What ``Plateau.update`` may answer.
ACTIONS = ("improved", "wait", "decay", "stop")


@dataclass
class Plateau:
    """Plateau detection on a validation loss, counted in evaluation checks.

    Parameters
    ----------
    patience : int
        Checks without an improvement of at least `MIN_DELTA` that make a plateau.
    max_plateaus : int
        The run stops at this plateau (2: decay at the first plateau, stop at the second).

    Examples
    --------
    >>> p = Plateau(patience=2, max_plateaus=2)
    >>> [p.update(v, step) for step, v in enumerate([1.0, 0.5, 0.6, 0.6, 0.4, 0.4, 0.4])]
    ['improved', 'improved', 'wait', 'decay', 'improved', 'wait', 'stop']
    >>> p.best, p.best_step, p.plateaus
    (0.4, 4, 2)
    """

    patience: int
    max_plateaus: int = 2
    best: float = math.inf
    best_step: int = -1
    bad_checks: int = 0
    plateaus: int = 0

    def __post_init__(self) -> None:
        check_positive_int("patience", self.patience)
        check_positive_int("max_plateaus", self.max_plateaus)

    def update(self, value: float, step: int) -> str:
        """Record the validation loss of one check; return one of `ACTIONS`.

        A non-finite value counts as no improvement.
        """
        if math.isfinite(value) and value < self.best - MIN_DELTA:
            self.best, self.best_step, self.bad_checks = float(value), int(step), 0
            return "improved"
        self.bad_checks += 1
        if self.bad_checks < self.patience:
            return "wait"
        self.bad_checks = 0
        self.plateaus += 1
        return "stop" if self.plateaus >= self.max_plateaus else "decay"

    def to_json(self) -> dict:
        """The state as a JSON-ready dict (for checkpoints)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Plateau:
        """Rebuild the state written by [`to_json`][tnrnn.memory.protocol.Plateau.to_json].

        Examples
        --------
        >>> p = Plateau(3); _ = p.update(1.0, 10)
        >>> Plateau.from_json(p.to_json()) == p
        True
        """
        values: dict[str, Any] = {k: (math.inf if k == "best" and v is None else v) for k, v in data.items()}
        return cls(**values)


#: Training presets (keyword arguments of ``tnrnn.memory.train.TrainConfig``).
PROTOCOLS: dict[str, dict[str, Any]] = {
    "authors": {
        "optimizer": "rmsprop", "learning_rate": 1e-3, "clip_norm": None, "schedule": "constant",
        "batch_size": 128, "steps": 50_000, "eval_every": 1000, "plateau_patience": 10, "max_plateaus": 2,
        "plateau_factor": 0.1, "restore_best": True, "eval_batch_size": 5000, "test_batch_size": 10_000,
    },
    "scaled": {
        "optimizer": "rmsprop", "learning_rate": 1e-3, "clip_norm": None, "schedule": "constant",
        "batch_size": 128, "steps": 3000, "eval_every": 100, "plateau_patience": 4, "max_plateaus": 2,
        "plateau_factor": 0.1, "restore_best": True, "eval_batch_size": 1000, "test_batch_size": 2000,
    },
}


def protocol_settings(name: str, **overrides: Any) -> dict[str, Any]:
    """The settings of preset ``name`` with ``overrides`` (None values ignored) applied.

    Raises
    ------
    TnrnnError
        For an unknown preset.

    Examples
    --------
    >>> s = protocol_settings("authors", steps=2000)
    >>> s["optimizer"], s["batch_size"], s["steps"], s["plateau_patience"]
    ('rmsprop', 128, 2000, 10)
    """
    if name not in PROTOCOLS:
        raise TnrnnError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return {**PROTOCOLS[name], **{k: v for k, v in overrides.items() if v is not None}}

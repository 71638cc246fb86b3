"""``RACSpec``: the shape of a Recurrent Arithmetic Circuit (depth, width, features, outputs)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from tnrnn.base.validate import check_positive_int


@dataclass(frozen=True)
class RACSpec:
    """Shape of a Recurrent Arithmetic Circuit (docs/theory.md, "Recurrent Arithmetic Circuits").

    Parameters
    ----------
    depth : int
        Number of layers L (1 = shallow).
    width : int
        Hidden width R of every layer.
    features : int
        Input feature dimension M (alphabet size on the one-hot domain).
    outputs : int, default 1
        Output dimension K.

    Examples
    --------
    >>> spec = RACSpec(depth=2, width=3, features=2)
    >>> spec.L, spec.R, spec.M, spec.K
    (2, 3, 2, 1)
    >>> spec.total_input_copies(4)
    10
    """

    depth: int
    width: int
    features: int
    outputs: int = 1

    def __post_init__(self) -> None:
        for name in ("depth", "width", "features", "outputs"):
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))

    # Short names used throughout the maths.
    @property
    def L(self) -> int:
        """Depth."""
        return self.depth

    @property
    def R(self) -> int:
        """Width."""
        return self.width

    @property
    def M(self) -> int:
        """Features (symbols)."""
        return self.features

    @property
    def K(self) -> int:
        """Outputs."""
        return self.outputs

    @property
    def shallow(self) -> bool:
        """True for L = 1."""
        return self.depth == 1

    def input_copies(self, T: int) -> list[int]:
        """Copies of each input in the duplicated network, ``n_j = C(T - j + L - 1, L - 1)`` for j = 1..T.

        Examples
        --------
        >>> RACSpec(3, 2, 2).input_copies(4)
        [10, 6, 3, 1]
        """
        T = check_positive_int("T", T)
        return [math.comb(T - j + self.L - 1, self.L - 1) for j in range(1, T + 1)]

    def total_input_copies(self, T: int) -> int:
        """``C(T + L - 1, L)``, the number of input legs of the continuous-form network."""
        T = check_positive_int("T", T)
        return math.comb(T + self.L - 1, self.L)

    def num_params(self) -> int:
        """Number of weights: ``W_I`` (R x M, then R x R), ``W_H`` (R x R per layer), ``W_O`` (K x R).

        Examples
        --------
        >>> RACSpec(2, 3, 2).num_params()   # 6 + 9 + 2 * 9 + 3
        36
        """
        R, M, L, K = self.R, self.M, self.L, self.K
        return R * M + (L - 1) * R * R + L * R * R + K * R

    def to_json(self) -> dict:
        """The four sizes as a dict."""
        return asdict(self)

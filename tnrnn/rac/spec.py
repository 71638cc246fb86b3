"""``RACSpec``: the shape of a Recurrent Arithmetic Circuit (depth, width, features, outputs)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from tnrnn.base.errors import TnrnnError


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise a clear ``TnrnnError``.

    Booleans and integral floats (``2.0``) are refused: they are almost always a mistake in a size.

    Examples
    --------
    >>> check_positive_int("T", 4)
    4
    >>> check_positive_int("T", 0)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: T must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int,)) and not _is_integral(value):
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {value!r}")
    ivalue = int(value)  # type: ignore[arg-type]
    if ivalue < minimum:
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {ivalue}")
    return ivalue


def _is_integral(value: object) -> bool:
    import numpy as np

    return isinstance(value, np.integer)


@dataclass(frozen=True)
class RACSpec:
    """Shape of a Recurrent Arithmetic Circuit (SCIENCE.md section 1).

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
        return self.depth

    @property
    def R(self) -> int:
        return self.width

    @property
    def M(self) -> int:
        return self.features

    @property
    def K(self) -> int:
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
        return asdict(self)

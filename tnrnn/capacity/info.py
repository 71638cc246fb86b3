"""Binary entropy and stored bits (Collins, Sohl-Dickstein, Sussillo, ICLR 2017: per-parameter capacity).

A network that labels ``b`` random binary labels with accuracy ``p`` stores ``I = b (1 - H2(p))`` bits
about them (the capacity of a binary symmetric channel with error ``1 - p``, times ``b`` uses). ``p`` is
clipped to ``[1/2, 1]``: below chance the network would store the flipped labels, which a trained classifier
should not be credited with, and above 1 nothing is defined.
"""

from __future__ import annotations

import numpy as np

from tnrnn.base.errors import TnrnnError


def binary_entropy(p):
    """Binary entropy ``H2(p) = -p log2 p - (1-p) log2 (1-p)`` in bits, with ``0 log 0 = 0``.

    Parameters
    ----------
    p : float or array_like
        Probabilities in ``[0, 1]``.

    Returns
    -------
    float or numpy.ndarray
        ``H2(p)``, same shape as ``p``.

    Raises
    ------
    TnrnnError
        If any ``p`` is outside ``[0, 1]`` or not finite.

    Examples
    --------
    >>> binary_entropy(0.5), binary_entropy(1.0)
    (1.0, 0.0)
    >>> round(float(binary_entropy(0.11)), 3)
    0.5
    """
    arr = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise TnrnnError(f"probabilities must lie in [0, 1], got {p!r}")
    q = 1.0 - arr
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(arr > 0, arr * np.log2(arr), 0.0) - np.where(q > 0, q * np.log2(q), 0.0)
    h = np.clip(h, 0.0, 1.0) + 0.0  # rounding can put H2(1/2) a hair above 1; + 0.0 turns -0.0 into 0.0
    return float(h) if np.ndim(h) == 0 else h


def clip_accuracy(p):
    """Clip accuracies to ``[1/2, 1]`` (below chance is credited as chance).

    Examples
    --------
    >>> clip_accuracy(0.3), clip_accuracy(0.8)
    (0.5, 0.8)
    """
    arr = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise TnrnnError(f"accuracies must lie in [0, 1], got {p!r}")
    out = np.clip(arr, 0.5, 1.0)
    return float(out) if np.ndim(out) == 0 else out


def stored_bits(b, p):
    """Bits stored about ``b`` random binary labels recalled with accuracy ``p``: ``b (1 - H2(clip(p)))``.

    Parameters
    ----------
    b : int or array_like of int
        Number of labelled samples (>= 0).
    p : float or array_like
        Accuracy on those samples, in ``[0, 1]``; clipped to ``[1/2, 1]``.

    Returns
    -------
    float or numpy.ndarray
        Stored bits ``I``.

    Examples
    --------
    >>> stored_bits(100, 1.0), stored_bits(100, 0.5), stored_bits(100, 0.2)
    (100.0, 0.0, 0.0)
    >>> round(stored_bits(1000, 0.89), 1)
    500.1
    """
    barr = np.asarray(b)
    if not np.issubdtype(barr.dtype, np.integer) and not (
        np.issubdtype(barr.dtype, np.floating) and np.all(np.isfinite(barr)) and np.all(barr == np.round(barr))
    ):
        raise TnrnnError(f"b must be a whole number of samples, got {b!r}")
    if np.any(barr < 0):
        raise TnrnnError(f"b must be >= 0, got {b!r}")
    out = barr.astype(np.float64) * (1.0 - np.asarray(binary_entropy(clip_accuracy(p))))
    return float(out) if np.ndim(out) == 0 else out

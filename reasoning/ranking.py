"""Taking the first few of many ranked items without sorting them all (pages, retrieval, mining)."""

from __future__ import annotations

import numpy as np


def in_order(keys: np.ndarray, positions: np.ndarray, first: int) -> np.ndarray:
    """The ``first`` smallest keys' positions, sorted (ties by position), without sorting everything."""
    if first < len(keys):
        part = np.argpartition(keys, first - 1)[:first]
        keys, positions = keys[part], positions[part]
    return positions[np.lexsort((positions, keys))]

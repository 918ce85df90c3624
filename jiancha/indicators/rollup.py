"""Summing each unit's own counts into its ancestors (pre-aggregate, then roll up).

Every fact (a person's decision, a case, a matter) belongs to exactly one unit, so the
figure of a unit's whole subtree is the sum of the figures of the units in it: the SQL
statement counts per unit, and this module adds those rows up the tree with numpy.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Leaf:
    """Per (unit, period) counts of each term, as the SQL statement returns them."""

    unit_ids: np.ndarray  # int64, one per row
    buckets: list[str]
    counts: np.ndarray  # rows x terms, int64


@dataclass
class Rolled:
    unit_ids: np.ndarray
    buckets: list[str]
    subtree: np.ndarray  # rows x terms: the unit and everything below it
    own: np.ndarray  # rows x terms: the unit's own cases


def rollup(leaf: Leaf, unit_ids: np.ndarray, parent_ids: np.ndarray, outputs: Sequence[int] | None) -> Rolled:
    """Sum the leaf rows into every output unit that is the row's unit or an ancestor.

    ``unit_ids``/``parent_ids`` describe the tree (parent 0 or negative: the root);
    ``outputs`` None means every unit with a row below it.
    """
    terms = leaf.counts.shape[1] if leaf.counts.ndim == 2 else 0
    if len(leaf.buckets) == 0:
        empty = np.zeros((0, terms), dtype=np.int64)
        return Rolled(np.zeros(0, dtype=np.int64), [], empty, empty.copy())
    order = np.argsort(unit_ids)
    sorted_ids = unit_ids[order]
    parent_dense = np.full(len(unit_ids) + 1, -1, dtype=np.int64)  # last slot: "no unit"
    positions = np.searchsorted(sorted_ids, parent_ids[order])
    known = (positions < len(sorted_ids)) & (sorted_ids[np.minimum(positions, len(sorted_ids) - 1)] == parent_ids[order])
    parent_dense[: len(unit_ids)] = np.where(known, positions, -1)

    bucket_labels, bucket_codes = np.unique(np.asarray(leaf.buckets, dtype=object), return_inverse=True)
    leaf_positions = np.searchsorted(sorted_ids, leaf.unit_ids)
    leaf_positions = np.where(
        (leaf_positions < len(sorted_ids)) & (sorted_ids[np.minimum(leaf_positions, len(sorted_ids) - 1)] == leaf.unit_ids),
        leaf_positions,
        -1,
    )
    wanted = None
    if outputs is not None:
        wanted = np.zeros(len(unit_ids), dtype=bool)
        output_positions = np.searchsorted(sorted_ids, np.asarray(list(outputs), dtype=np.int64))
        output_positions = output_positions[output_positions < len(sorted_ids)]
        wanted[output_positions[np.isin(sorted_ids[output_positions], np.asarray(list(outputs), dtype=np.int64))]] = True

    rows_all, units_all = [], []
    current = leaf_positions.copy()
    rows = np.arange(len(leaf.buckets))
    while True:
        valid = current >= 0
        if not valid.any():
            break
        mask = valid if wanted is None else valid & wanted[np.where(valid, current, 0)]
        rows_all.append(rows[mask])
        units_all.append(current[mask])
        current = np.where(valid, parent_dense[np.where(valid, current, len(unit_ids))], -1)
    row_index = np.concatenate(rows_all) if rows_all else np.zeros(0, dtype=np.int64)
    unit_index = np.concatenate(units_all) if units_all else np.zeros(0, dtype=np.int64)
    keys = unit_index * len(bucket_labels) + bucket_codes[row_index]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    subtree = np.zeros((len(unique_keys), terms), dtype=np.int64)
    np.add.at(subtree, inverse, leaf.counts[row_index])
    own = np.zeros_like(subtree)
    is_own = unit_index == leaf_positions[row_index]
    np.add.at(own, inverse[is_own], leaf.counts[row_index[is_own]])
    out_units = sorted_ids[unique_keys // len(bucket_labels)]
    out_buckets = [str(bucket_labels[code]) for code in unique_keys % len(bucket_labels)]
    return Rolled(out_units.astype(np.int64), out_buckets, subtree, own)

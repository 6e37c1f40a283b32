"""The feature annotations (idtrack ``var`` columns) of the concatenated result."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...record import OUTCOMES, TEXT, n_datasets_column, uns_key, var_columns

#: How the idtrack ``var`` columns of the result are assembled (recorded in the params).
VAR_MERGE = "first_non_missing (originals: union, '|'-joined)"


class _FeatureUnion:
    """The idtrack ``var`` columns of the union of features, built one dataset at a time.

    Memory is bounded by the number of distinct features, not of datasets. Per feature, each
    column takes the value of the first dataset that has the feature (they agree across
    datasets: one snapshot, one release), except the original identifiers (every distinct
    one, ``|``-joined), the number of merged features (the largest) and the number of
    datasets holding the feature (a new column, ``{key_added}_n_datasets``). The old
    ``var_names`` (``{key_added}_original_var_name``, written with ``id_key``) are joined like
    the original identifiers.
    """

    def __init__(self, *, key_added: str, symbol_key: str) -> None:
        cols = var_columns(key_added)
        self.original = cols["original"]
        self.joined = [cols["original"], cols["original_var_name"]]  # every distinct value, |-joined
        self.original_reason = cols["original_reason"]  # aligned with the originals
        self.n_merged = cols["n_merged"]
        self.n_datasets = n_datasets_column(key_added)
        self.outcome = cols["outcome"]
        self.columns = [
            symbol_key,
            cols["gene_id"],
            cols["outcome"],
            cols["reason"],
            cols["targets"],
            cols["original"],
            cols["original_reason"],
            cols["n_merged"],
        ]
        self.frame: pd.DataFrame | None = None
        self.intersection: pd.Index | None = None
        #: per dataset, the rows of ``frame`` it holds (int32 positions: memory is one int per
        #: feature per dataset, not one name)
        self.members: list[np.ndarray] = []

    def add(self, var: pd.DataFrame) -> None:
        if self.joined[1] in var.columns and self.joined[1] not in self.columns:
            self.columns.append(self.joined[1])  # the same id_key in every dataset: all have it, or none
        if self.original_reason not in var.columns:  # a record written before the column existed
            var = var.assign(**{self.original_reason: [""] * len(var)})
        part = pd.DataFrame(
            {c: var[c].astype(str).to_numpy(dtype=object) for c in self.columns if c != self.n_merged},
            index=pd.Index(var.index.astype(str), dtype=object),
        )
        part[self.n_merged] = var[self.n_merged].to_numpy(dtype=np.int64)
        part[self.n_datasets] = np.ones(len(part), dtype=np.int64)
        self.intersection = part.index if self.intersection is None else self.intersection.intersection(part.index)
        if self.frame is None:
            self.frame = part
            self.members.append(np.arange(len(part), dtype=np.int32))
            return
        frame = self.frame
        seen = part.index.isin(frame.index)
        common = part.index[seen]
        rows = np.empty(len(part), dtype=np.int32)
        rows[seen] = frame.index.get_indexer(common)
        rows[~seen] = len(frame) + np.arange(int((~seen).sum()), dtype=np.int32)
        self.members.append(rows)
        if len(common):
            old_o = frame.loc[common, self.original].to_numpy(dtype=object)
            new_o = part.loc[common, self.original].to_numpy(dtype=object)
            differ = old_o != new_o
            if differ.any():  # the reasons of the originals added, in the same order
                old_r = frame.loc[common, self.original_reason].to_numpy(dtype=object)
                new_r = part.loc[common, self.original_reason].to_numpy(dtype=object)
                frame.loc[common[differ], self.original_reason] = [
                    _join_aligned(*args)
                    for args in zip(old_o[differ], old_r[differ], new_o[differ], new_r[differ], strict=True)
                ]
            for col in (c for c in self.joined if c in self.columns):
                old = frame.loc[common, col].to_numpy(dtype=object)
                new = part.loc[common, col].to_numpy(dtype=object)
                differ = old != new
                if differ.any():
                    frame.loc[common[differ], col] = [
                        _join_unique(a, b) for a, b in zip(old[differ], new[differ], strict=True)
                    ]
            frame.loc[common, self.n_datasets] = frame.loc[common, self.n_datasets].to_numpy() + 1
            frame.loc[common, self.n_merged] = np.maximum(
                frame.loc[common, self.n_merged].to_numpy(), part.loc[common, self.n_merged].to_numpy()
            )
        self.frame = pd.concat([frame, part[~seen]])

    def staged_columns(self, var: pd.DataFrame, merge: object) -> list[str]:
        """The ``var`` columns to stage beside a dataset's matrices.

        Only those a ``merge`` strategy needs: the idtrack columns are held here and written
        into the result afterwards.
        """
        return [c for c in var.columns if c not in self.columns] if merge is not None else []

    def var(self, index: pd.Index) -> pd.DataFrame:
        """The idtrack columns for the result's features ``index``."""
        assert self.frame is not None
        frame = self.frame.reindex(pd.Index(index.astype(str), dtype=object))
        frame[self.outcome] = pd.Categorical(frame[self.outcome], categories=OUTCOMES)
        for col in self.columns:
            if col not in (self.outcome, self.n_merged):
                frame[col] = frame[col].astype(TEXT)
        for col in (self.n_merged, self.n_datasets):
            frame[col] = frame[col].fillna(0).astype(np.int64)
        frame.index = index
        return frame

    def presence(self, index: pd.Index, names: list[str]) -> pd.DataFrame:
        """Which dataset measured which feature: ``index`` (the result's features) × ``names``, boolean.

        ``names`` are the datasets in the order they were added (the columns, as
        :func:`~idtrack_sc.record.uns_key` makes them). ``False`` means the dataset does not
        have the feature at all (an outer join filled its values), not that it counted zero.
        """
        assert self.frame is not None
        rows = self.frame.index.get_indexer(pd.Index(index.astype(str), dtype=object))
        found = rows >= 0
        out = np.zeros((len(index), len(self.members)), dtype=bool)
        for j, members in enumerate(self.members):
            mark = np.zeros(len(self.frame), dtype=bool)
            mark[members] = True
            out[found, j] = mark[rows[found]]
        return pd.DataFrame(out, index=index, columns=pd.Index([uns_key(n) for n in names], dtype=object))


def _join_unique(a: str, b: str) -> str:
    parts = a.split("|")
    parts += [p for p in b.split("|") if p not in parts]
    return "|".join(parts)


def _join_aligned(originals: str, reasons: str, new_originals: str, new_reasons: str) -> str:
    """The reasons of ``_join_unique(originals, new_originals)``, one per original identifier."""
    parts = originals.split("|")
    why = reasons.split("|") if reasons else [""] * len(parts)
    new_why = new_reasons.split("|") if new_reasons else []
    why += [new_why[i] if i < len(new_why) else "" for i, o in enumerate(new_originals.split("|")) if o not in parts]
    return "|".join(why)


def _with_columns(var: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """``var`` with the idtrack columns set (replacing any a merge strategy kept)."""
    other = var.drop(columns=[c for c in columns.columns if c in var.columns])
    return pd.concat([columns.set_axis(other.index, axis=0), other], axis=1)

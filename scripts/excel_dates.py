"""Spreadsheet dates repaired: idtrack-sc beside stangene on HGNChelper's human map.

HGNChelper (waldronlab/HGNChelper, ``inst/extdata/mog_map.csv``) lists, for each human
symbol a spreadsheet turns into a date, every string it writes (``1-Mar``, ``3/1``,
``03/01``, ``03-1``, ...; month first, as US locales write dates). Its symbols are current
HGNC symbols (MARCHF1, SEPTIN7, MTARC1, ...). Each string is converted with
``strategy="all"`` (release 114, target ``symbol``); a row is

- *repaired* when the answer's candidates include the row's symbol (an Excel string that
  several symbols give, such as ``1-Mar`` from MARCHF1 and MTARC1, is a tie of them all);
- *exact* when, in addition, the candidates are exactly HGNChelper's symbols for the string
  (idtrack-sc keeps more: the day-first reading, ``3/9`` also 3 September, and every symbol
  family, ``MAR3`` an alias of RTL3 beside ``MARCH3``);
- *best 1:1* when ``strategy="best"`` answers the row's symbol alone (a string HGNChelper
  maps to one symbol only).

stangene is asked the same strings (``harmonize_anndata``); a row is repaired when its
symbol's Ensembl gene is stangene's answer.

Usage::

    python scripts/excel_dates.py MOG_MAP_CSV [--no-stangene]
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np
import pandas as pd


def measure(mog_map: str, *, with_stangene: bool = True, snapshot: object = "human") -> dict:
    """Repaired rows of the map, for idtrack-sc (``snapshot``: a snapshot, a file or ``"human"``) and stangene."""
    import idtrack_sc as its
    from idtrack_sc.registry import resolve_snapshot

    snap = resolve_snapshot(snapshot)
    table = pd.read_csv(mog_map, dtype=str).drop_duplicates()
    strings = table["mogrified"].to_numpy(dtype=object)
    out = its.convert(strings, snapshot=snap, to="symbol", release=114, strategy="all")
    candidates = [set(t.split("|")) if t else set() for t in out["targets"]]
    expected = table.groupby("mogrified")["original"].agg(set)
    repaired = np.array([o in c for o, c in zip(table["original"], candidates, strict=True)])
    exact = np.array([c == expected[m] for m, c in zip(strings, candidates, strict=True)])
    best = its.convert(strings, snapshot=snap, to="symbol", release=114, strategy="best")
    one = (best["outcome"] == "1:1").to_numpy() & (
        best["target"].to_numpy(dtype=object) == table["original"].to_numpy()
    )
    result = {
        "rows": len(table),
        "strings": int(table["mogrified"].nunique()),
        "idtrack-sc": {"repaired": int(repaired.sum()), "exact": int(exact.sum()), "best 1:1": int(one.sum())},
        "outcomes": {
            f"{o} {r}": int(c) for (o, r), c in out.groupby(["outcome", "reason"], observed=True).size().items()
        },
        "not_repaired": table.loc[~repaired]
        .assign(targets=out.loc[~repaired, "targets"].to_numpy())
        .astype(str)
        .to_dict("records"),
    }
    if with_stangene:
        import anndata as ad
        import stangene as sg

        for name in list(logging.root.manager.loggerDict):
            if name.startswith("stangene"):
                logging.getLogger(name).setLevel(logging.WARNING)
        genes = its.convert(table["original"].to_numpy(dtype=object), snapshot=snap, release=114)["target"]
        unique = pd.unique(pd.Series(strings, dtype=object))
        mapped = sg.harmonize_anndata(ad.AnnData(var=pd.DataFrame(index=pd.Index(unique, dtype=object))), "human")
        answer = dict(
            zip(unique, mapped.mapping_table["gene_id_harmonized"].astype(object).fillna("").to_numpy(), strict=True)
        )
        ok = np.array([answer[m] == g and g != "" for m, g in zip(strings, genes, strict=True)])
        result["stangene"] = {"repaired": int(ok.sum())}
    return result


def markdown(result: dict) -> list[str]:
    """The results as Markdown lines (a subsection of the validation page)."""
    rows = result["rows"]
    out = [
        "### Spreadsheet dates beside stangene",
        "",
        f"HGNChelper's human map of spreadsheet-mangled symbols (`inst/extdata/mog_map.csv`: {rows} rows, "
        f"{result['strings']} distinct strings such as `1-Mar`, `3/1`, `03/01`, `03-1`, each with the current "
        'HGNC symbol it came from), converted with `strategy="all"` to symbols at Ensembl 114. *Repaired*: '
        "the candidates include the row's symbol (a string several symbols give is a tie of them all); "
        "*exact*: the candidates are HGNChelper's symbols for the string, no more (idtrack-sc also reads "
        "numeric dates day first, `3/9` as 3 September, and keeps every symbol family, `MAR3` beside "
        '`MARCH3`); *best 1:1*: `strategy="best"` answers the row\'s symbol alone. '
        "(`python scripts/excel_dates.py MOG_MAP_CSV`)",
        "",
        "| tool | rows | repaired | exact | best 1:1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for tool in ("idtrack-sc", "stangene"):
        if tool in result:
            r = result[tool]
            cells = [f"{r[k]:,} ({r[k] / rows:.1%})" if k in r else "n/a" for k in ("repaired", "exact", "best 1:1")]
            out.append(f"| {tool} | {rows:,} | " + " | ".join(cells) + " |")
    missed = sorted({f"`{r['mogrified']}` ({r['original']})" for r in result["not_repaired"]})
    if missed:
        out += [
            "",
            f"Not repaired: {', '.join(missed)}: `DEC1` is a previous symbol of DELEC1 and an alias of "
            "BHLHE40, and a previous symbol outranks an alias ({ref}`symbol-rule`).",
        ]
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mog_map")
    parser.add_argument("--no-stangene", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.mog_map, with_stangene=not args.no_stangene)
    rows = result["rows"]
    print(f"HGNChelper human map: {rows} rows, {result['strings']} distinct strings")
    for tool in ("idtrack-sc", "stangene"):
        if tool in result:
            counts = ", ".join(f"{k} {v} ({v / rows:.1%})" for k, v in result[tool].items())
            print(f"  {tool}: {counts}")
    print("  idtrack-sc outcomes:", result["outcomes"])
    print("\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Resolution-index build per (release, namespace) and conversion throughput on mixed real queries."""

from __future__ import annotations

import pandas as pd
from context import RELEASE
from registry import Result, Table, measurement

TARGET_IDS_PER_S = 1_000_000
FLOOR_IDS_PER_S = 250_000
NAMESPACES = ("ensembl_gene", "symbol")


def convert_table(ctx, organism: str, to: str) -> pd.DataFrame:
    """The conversion of the organism's query batch (cached, computed on first use)."""
    key = ("convert", organism, to, len(ctx.queries(organism)))
    if key not in ctx.cache:
        import idtrack_sc as its

        snap = ctx.cache.get(("warm_snapshot", organism)) or ctx.fresh_snapshot(organism)
        ctx.cache[key] = its.convert(ctx.queries(organism).queries, snapshot=snap, to=to)
    return ctx.cache[key]


@measurement("resolver", "index_build", "First `convert` per release and namespace, and the full build it replaces")
def index_build(ctx) -> Result:
    """Time the first ``convert`` of the query batch on fresh snapshots, beside resolving every key."""
    import idtrack_sc as its
    from idtrack_sc.resolve import get_index
    from idtrack_sc.resolve._key_index import key_index

    plan = {"homo_sapiens": (RELEASE,) if ctx.quick else (84, 104, RELEASE), "mus_musculus": (RELEASE,)}
    rows, metrics = [], {}
    for organism in ctx.organisms:
        queries = ctx.queries(organism).queries
        for release in plan[organism]:
            snap = ctx.fresh_snapshot(organism)
            keys, _ = ctx.time_once(lambda snap=snap: key_index(snap))
            first, _ = ctx.time_once(
                lambda snap=snap, release=release, queries=queries: its.convert(
                    queries, snapshot=snap, to=NAMESPACES[0], release=release
                )
            )
            second, _ = ctx.time_once(
                lambda snap=snap, release=release, queries=queries: its.convert(
                    queries, snapshot=snap, to=NAMESPACES[1], release=release
                )
            )
            full = None
            if release == RELEASE:
                full, _ = ctx.time_once(lambda snap=snap, release=release: get_index(snap, release, NAMESPACES[0]))
            metrics[f"{organism}/{release}"] = {
                "key_index_s": keys,
                f"{NAMESPACES[0]}_first_s": first,
                f"{NAMESPACES[1]}_after_s": second,
                "full_build_s": full,
                "keys": len(key_index(snap).all_codes()),
            }
            if release == RELEASE:
                ctx.cache[("index_metrics", organism)] = metrics[f"{organism}/{release}"]
            n_keys = len(key_index(snap).all_codes())
            rows.append([organism, release, n_keys, keys, first, second, "" if full is None else full])
    table = Table(
        f"First conversion of {len(queries):,} mixed queries on a freshly loaded snapshot",
        [
            "organism",
            "target release",
            "keys in the snapshot",
            "key index (s, once per session)",
            "to=ensembl_gene, first (s)",
            "then to=symbol (s)",
            "full build of every key (s, reference)",
        ],
        rows,
        note=(
            "A conversion resolves only the keys its queries reach (anchor, history, target, classify on "
            "their rows) and keeps them for the session; the full build resolves every key of the snapshot "
            "with the same rules (what `get_index` returns, and what the pinned answers are checked on). "
            "Snapshot tables are read before timing; the key index (the key table's hash table) is timed apart."
        ),
    )
    return Result(metrics=metrics, tables=[table])


def _throughput(ctx, organism: str) -> Result:
    import idtrack_sc as its

    qs = ctx.queries(organism)
    n = len(qs)
    rows, metrics = [], {"n_queries": n, "seed": qs.seed, "repeats": ctx.repeats, "kinds": qs.counts()}
    for to in NAMESPACES:
        snap = ctx.fresh_snapshot(organism)
        first, table = ctx.time_once(lambda snap=snap, to=to: its.convert(qs.queries, snapshot=snap, to=to))
        runs = ctx.time_runs(lambda snap=snap, to=to: its.convert(qs.queries, snapshot=snap, to=to), ctx.repeats)
        ctx.cache[("convert", organism, to, n)] = table
        ctx.cache[("warm_snapshot", organism)] = snap
        warm = ctx.median(runs)
        worst = max(runs)
        rate, worst_rate, first_rate = n / warm, n / worst, n / first
        metrics[to] = {
            "warm_median_s": warm,
            "warm_runs_s": runs,
            "warm_ids_per_s": rate,
            "warm_slowest_ids_per_s": worst_rate,
            "first_call_s": first,
            "first_call_ids_per_s": first_rate,
            "outcomes": table["outcome"].value_counts().to_dict(),
        }
        verdict = "✓" if rate >= TARGET_IDS_PER_S and worst_rate >= FLOOR_IDS_PER_S else "✗"
        rows.append([to, n, warm * 1e3, rate, worst_rate, first, first_rate, verdict])
    tables = [
        Table(
            f"Conversion throughput, {organism}, {n:,} mixed queries (seed {qs.seed})",
            [
                "to",
                "queries",
                f"warm median of {ctx.repeats} (ms)",
                "warm ids/s",
                "slowest warm run ids/s",
                "first call (s)",
                "first call ids/s",
                "target ≥ 1,000,000 warm, ≥ 250,000 every warm run",
            ],
            rows,
            note=(
                "Warm: the keys of the batch were resolved by an earlier call of the session (kept per "
                "release and namespace). First call: fresh snapshot, tables already read; the call builds "
                "the key index and resolves the keys its queries reach."
            ),
        )
    ]
    ctx.cache[("throughput_metrics", organism)] = metrics
    tables.append(_per_kind(qs, convert_table(ctx, organism, "ensembl_gene")))
    metrics["per_kind_ensembl_gene"] = {row[0]: row[1:] for row in tables[-1].rows}
    return Result(metrics=metrics, tables=tables)


def _per_kind(qs, table: pd.DataFrame) -> Table:
    frame = pd.DataFrame({"kind": qs.kinds, "outcome": table["outcome"].astype(str), "reason": table["reason"]})
    rows = []
    for kind in dict.fromkeys(qs.kinds.tolist()):  # order of first appearance
        part = frame[frame["kind"] == kind]
        counts = part["outcome"].value_counts()
        reasons = part["reason"].astype(str).value_counts().head(3)
        top = ", ".join(f"{r} {c / len(part):.0%}" for r, c in reasons.items())
        rows.append(
            [kind, len(part), int(counts.get("1:1", 0)), int(counts.get("1:n", 0)), int(counts.get("1:0", 0)), top]
        )
    rows.sort(key=lambda r: -r[1])
    return Table(
        "Outcome per query kind (to=ensembl_gene, latest release)",
        ["query kind", "queries", "1:1", "1:n", "1:0", "most frequent reasons"],
        rows,
    )


@measurement("resolver", "throughput_human", "Conversion throughput, human (mixed real queries)")
def throughput_human(ctx) -> Result:
    """Warm and first-call throughput on the human query batch, to ensembl_gene and symbol."""
    return _throughput(ctx, "homo_sapiens")


@measurement("resolver", "throughput_mouse", "Conversion throughput, mouse (mixed real queries)")
def throughput_mouse(ctx) -> Result:
    """Warm and first-call throughput on the mouse query batch."""
    return _throughput(ctx, "mus_musculus")


@measurement("resolver", "infer_release", "Release inference (`infer_release`) on 30,000 real names")
def infer_release_speed(ctx) -> Result:
    """Time :func:`idtrack_sc.infer_release` on 30,000 names of one real gene table per release.

    The names are the symbols (and, as pairs, the IDs) of the release's own gene table: the
    answer must be that release. The first call on a fresh snapshot also reads its dated
    tables into validity masks (once per session).
    """
    import idtrack_sc as its

    ctx.ensure_gathered()
    base = ctx.data_work / "homo_sapiens"
    rows, metrics = [], {}
    snap = ctx.fresh_snapshot("homo_sapiens")
    for i, release in enumerate((84, 104, RELEASE)):
        table = pd.read_csv(base / f"gene_table_e{release}.tsv", sep="\t", dtype=str, keep_default_na=False)
        table = table[table["gene_name"] != ""].sample(30_000, random_state=0)
        names, ids = table["gene_name"].to_numpy(dtype=object), table["gene_id"].to_numpy(dtype=object)
        for label, kwargs in (("symbols", {}), ("symbols + IDs", {"paired": ids})):
            first, result = ctx.time_once(
                lambda kwargs=kwargs, names=names: its.infer_release(names, snapshot=snap, **kwargs)
            )
            runs = ctx.time_runs(
                lambda kwargs=kwargs, names=names: its.infer_release(names, snapshot=snap, **kwargs), ctx.repeats
            )
            warm = ctx.median(runs)
            metrics[f"{release}/{label}"] = {
                "first_s": first,
                "warm_s": warm,
                "release": result.release,
                "releases": list(result.releases),
            }
            rows.append(
                [
                    release,
                    label,
                    f"{first:.3f}" + (" (incl. masks)" if i == 0 and label == "symbols" else ""),
                    f"{warm:.3f}",
                    result.release,
                    ", ".join(map(str, result.releases)),
                    "✓" if result.release == release else "✗",
                ]
            )
    table = Table(
        "infer_release on 30,000 names of a real gene table (human snapshot)",
        [
            "table of release",
            "input",
            "first call (s)",
            f"warm median of {ctx.repeats} (s)",
            "inferred",
            "fits equally well",
            "right",
        ],
        rows,
        note="Goal: well under a second. The first call of a session also builds the snapshot's validity masks.",
    )
    return Result(metrics=metrics, tables=[table])

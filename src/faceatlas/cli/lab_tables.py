"""The tables ``faceatlas eval`` prints for the fairness suites (from the report's JSON)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["DEMOGRAPHIC_SETTINGS", "demographics_table", "group_search_table"]

DEMOGRAPHIC_SETTINGS = ("calibrated", "fmr-1e-4", "fmr-1e-3")
"""The operating points the demographics table shows: the default and two looser ones."""


def demographics_table(d: dict[str, Any], target: float) -> Table:
    """FMR within each group at the default threshold (with its multiple of the target) and
    at the thresholds for FMR 1e-4 and 1e-3, with the worst-to-best ratio under each."""
    from faceatlas.eval.report import fmt_rate

    names = [n for n in DEMOGRAPHIC_SETTINGS if n in d["thresholds"]]
    t = Table(title=f"{d['corpus']}: {d['attribute']} (FMR within group, 95% interval)")
    t.add_column("group")
    for n in names:
        t.add_column(f"{n} {d['thresholds'][n]:.4f}")
    t.add_column("x target")
    for g in d["groups"]:
        r = g["fmr"]["calibrated"]
        t.add_row(
            f"{g['group']} ({g['people']:,})",
            *(fmt_rate(g["fmr"][n]) for n in names),
            f"{r['rate'] / target:.1f} (<= {r['ci95'][1] / target:.0f})",
        )
    ratios = d.get("worst_to_best", {}).get("fmr", {})
    cells = []
    for n in names:
        r = ratios.get(n, {})
        cells.append("n/a (best group 0)" if r.get("ratio") is None else f"{r['ratio']:.1f}")
    t.add_row("worst / best", *cells, "", style="bold")
    return t


def group_search_table(g: dict[str, Any]) -> Table:
    """Per group: the share of searches that show a stranger as a lead, at the default and two
    looser thresholds, beside what each search's own estimate predicts, and the share whose
    first candidate is the wrong person at the default."""
    from faceatlas.eval.report import fmt_rate

    names = [n for n in DEMOGRAPHIC_SETTINGS if n in g["thresholds"]]
    t = Table(
        title=f"{g['corpus']}: {g['attribute']}, searches against {g['gallery_size']:,} faces "
        "(share showing a stranger as a lead)"
    )
    t.add_column("group")
    for n in names:
        t.add_column(f"{n} {g['thresholds'][n]:.4f}")
    t.add_column("wrong person on top")
    for row in g["groups"]:
        t.add_row(
            f"{row['group']} ({row['searches']:,})",
            *(fmt_rate(row["stranger_lead"][n]) for n in names),
            fmt_rate(row["wrong_on_top"]["calibrated"]) if "calibrated" in names else "",
        )
    estimate = g.get("search_estimate_fpir") or {}
    if estimate:
        t.add_row(
            "each search's estimate",
            *(
                f"{e['fpir']:.3g} [{e['fpir_lower']:.2g}, {e['fpir_upper']:.2g}]"
                if (e := estimate.get(n))
                else "n/a"
                for n in names
            ),
            "",
            style="dim",
        )
    ratios = g.get("worst_to_best") or {}
    t.add_row(
        "worst / best",
        *("n/a (best group 0)" if ratios.get(n) is None else f"{ratios[n]:.1f}" for n in names),
        "",
        style="bold",
    )
    return t

"""Report figures (matplotlib, PNG). Each function writes one file and returns its name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from faceatlas.eval.audit import AuditResult
    from faceatlas.eval.identify import IdentifyResult
    from faceatlas.eval.lab import LabResult
    from faceatlas.eval.verify import VerifyResult

__all__ = ["write_plots"]

DPI = 110


def _save(fig: Figure, out_dir: Path, name: str) -> str:
    """Figures are built without pyplot: no global state, no display backend."""
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=DPI)
    return name


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height))


def _label(ax: Axes, xlabel: str, ylabel: str | None, title: str) -> None:
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.set_title(title)


def _calibration(result: LabResult, out_dir: Path) -> str:
    cal = result.calibration
    m = cal.mapping
    fmr = m.false_matches / m.comparisons
    keep = fmr > 0
    fig = _figure(6.4, 4)
    ax = fig.subplots()
    ax.semilogy(m.grid[keep], fmr[keep], label="impostor pairs scoring at least s")
    ax.axvline(
        cal.threshold, color="C3", ls="--", label=f"calibrated threshold {cal.threshold:.3f}"
    )
    ax.axhline(cal.target_fmr, color="C2", ls=":", label=f"target FMR {cal.target_fmr:g}")
    _label(
        ax,
        "similarity s (cosine)",
        "false-match rate",
        "Calibration: similarity to false-match rate",
    )
    ax.set_xlim(max(0.5, float(m.grid[keep][0])) if keep.any() else 0.5, 1.0)
    ax.legend(fontsize=8)
    return _save(fig, out_dir, "calibration.png")


def _verify(v: VerifyResult, out_dir: Path) -> str:
    fig = _figure(10, 4)
    (det, roc) = fig.subplots(1, 2)
    for curve in (v.view2, v.extended):
        fmr = np.asarray(curve.curve_fmr)
        fnmr = np.asarray(curve.curve_fnmr)
        ok = fmr > 0
        det.loglog(fmr[ok], np.maximum(fnmr[ok], 1e-4), label=curve.name[:40])
        roc.semilogx(fmr[ok], 1 - fnmr[ok], label=curve.name[:40])
    _label(det, "false-match rate (FMR)", "false non-match rate (FNMR)", "DET curve")
    _label(roc, "false-match rate (FMR)", "true-match rate (1 - FNMR)", "ROC curve")
    for ax in (det, roc):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, out_dir, "verify.png")


def _identify(ident: IdentifyResult, out_dir: Path) -> str:
    fig = _figure(10, 4)
    (tradeoff, growth) = fig.subplots(1, 2)
    fpir = np.asarray(ident.curve_fpir)
    ok = fpir > 0
    tradeoff.semilogx(fpir[ok], np.asarray(ident.curve_fnir)[ok])
    _label(
        tradeoff,
        "FPIR (non-mated searches returning a candidate)",
        "FNIR (mated searches missing the mate at rank 1)",
        f"1:N trade-off, gallery {ident.gallery_people:,}",
    )
    tradeoff.grid(True, which="both", alpha=0.3)
    steps = ident.distractor_steps
    if steps:
        sizes = [s["gallery_size"] for s in steps]
        growth.plot(sizes, [s["rank1_miss_rate"] for s in steps], "o-", label="rank-1 miss rate")
        growth.plot(sizes, [s["fnir_at_fpir_0.01"] for s in steps], "s-", label="FNIR @ FPIR 0.01")
        if "fpir_at_threshold" in steps[0]:
            growth.plot(
                sizes, [s["fpir_at_threshold"] for s in steps], "^-", label="FPIR @ calibrated t"
            )
        growth.set_xlabel("gallery size (with distractors)")
        growth.set_ylabel("rate")
        growth.legend(fontsize=8)
    growth.set_title("Adding distractors to the gallery")
    growth.grid(True, alpha=0.3)
    return _save(fig, out_dir, "identify.png")


def _demographics(result: LabResult, out_dir: Path) -> list[str]:
    names: list[str] = []
    for d in result.demographics:
        groups = list(d.groups)
        fig = _figure(6.4, 0.5 + 0.45 * max(2, len(groups)))
        ax = fig.subplots()
        y = np.arange(len(groups))
        rates = [g.fmr["calibrated"] for g in groups]
        values = np.asarray([r.value for r in rates])
        low = np.asarray([r.low for r in rates])
        high = np.asarray([r.high for r in rates])
        ax.errorbar(values, y, xerr=[values - low, high - values], fmt="o", capsize=3)
        ax.set_yticks(y, [f"{g.group} ({g.fmr['calibrated'].trials:,})" for g in groups])
        _label(
            ax,
            "FMR within group at the calibrated threshold (95% CI)",
            None,
            f"{d.corpus}: {d.attribute}",
        )
        ax.set_xscale("symlog", linthresh=1e-6)
        ax.grid(True, axis="x", alpha=0.3)
        slug = f"demographics-{d.corpus.split()[0]}-{d.attribute}.png"
        names.append(_save(fig, out_dir, slug))
    return names


def _audit(result: LabResult, audit: AuditResult, out_dir: Path) -> str:
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    for i, row in enumerate(audit.rows):
        name = row["setting"]
        sizes = [g["gallery_size"] for g in audit.growth]
        measured = [g[name]["measured_fpir"]["rate"] for g in audit.growth]
        ax.plot(sizes, measured, "o", color=f"C{i}", label=f"{name}: measured")
        ext = [e["gallery_size"] for e in audit.extrapolation]
        if ext:
            pred_sizes = sorted({*sizes, *ext})
            f = result.calibration.fmr_at(row["similarity"]).value
            pred = [-np.expm1(n * np.log1p(-min(f, 1 - 1e-16))) for n in pred_sizes]
            ax.plot(pred_sizes, pred, "-", color=f"C{i}", alpha=0.6, label=f"{name}: predicted")
    ax.set_xscale("log")
    _label(
        ax,
        "faces in the gallery (N)",
        "share of searches with a false match (FPIR)",
        "False matches grow with gallery size",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out_dir, "audit-growth.png")


def write_plots(result: LabResult, out_dir: Path) -> dict[str, list[str]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "calibration": [_calibration(result, out_dir)],
        "verify": [] if result.verify is None else [_verify(result.verify, out_dir)],
        "identify": [] if result.identify is None else [_identify(result.identify, out_dir)],
        "demographics": _demographics(result, out_dir),
        "audit": [_audit(result, result.audits[0], out_dir)] if result.audits else [],
    }

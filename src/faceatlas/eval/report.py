"""The lab report: ``report.json`` (every number), PNG plots and ``report.html`` that
explains, in plain language, what each number means for an investigator."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.eval.lab import LabResult
from faceatlas.eval.plots import write_plots

__all__ = ["HTML_NAME", "JSON_NAME", "load_report", "render_html", "write_report"]

JSON_NAME = "report.json"
HTML_NAME = "report.html"

EXPLAIN = {
    "calibration": (
        "Every search compares the probe face with every face in the index. The calibration "
        "measures, on millions of pairs of photos of people who are certainly different, how "
        "often two different people score at least a given similarity: the false-match rate "
        "(FMR) per comparison. The default search threshold is the similarity at which that "
        "rate falls to the target. Each search result carries the FMR estimated at its "
        "similarity: a result with estimated FMR 1e-5 is as similar to the probe as one pair "
        "of strangers in 100,000."
    ),
    "verify": (
        "Verification asks: are these two photos the same person? The standard LFW test has "
        "3,000 same-person and 3,000 different-person pairs in 10 folds. The false non-match "
        "rate (FNMR) is the share of same-person pairs the system misses; the false-match "
        "rate (FMR) is the share of different-person pairs it wrongly accepts. Lowering one "
        "raises the other; the DET curve shows the whole trade-off and the equal error rate "
        "(EER) is where both are equal. 3,000 impostor pairs cannot measure an FMR of 1e-4, so "
        "a second set uses every pair of different people among the same photos."
    ),
    "identify": (
        "Identification is what a search engine does: one probe against a gallery of many "
        "people. A mated search is one whose person is in the gallery; a non-mated search is "
        "one whose person is not. The rank-1 rate (CMC) is how often the right person comes "
        "first when they are enrolled. FPIR is the share of non-mated searches that return any "
        "candidate at all: every such candidate is an innocent stranger. FNIR is the share of "
        "mated searches that miss the right person. Adding unrelated faces to the gallery "
        "(distractors) shows what happens as the index grows."
    ),
    "demographics": (
        "The same threshold applies to everyone, but error rates differ between groups. FMR "
        "is measured within each group (pairs of different people who share the group), "
        "because people who resemble each other in sex, age and ancestry are where false "
        "matches concentrate. The worst-to-best ratio says how many times more often the "
        "worst-served group is falsely matched than the best-served one. Small groups have "
        "wide intervals: read the interval, not only the point."
    ),
    "audit": (
        "The audit searches people who are certainly not in the gallery, so every candidate "
        "returned is a false match. It counts the searches that returned any candidate, at "
        "the calibrated default and at a lax setting, and compares the count with what the "
        "calibration predicts for a gallery of that size. The growth table is the single most "
        "important fact for a web-scale index: at a fixed threshold the chance that a search "
        "returns a stranger grows with the number of faces searched, and at hundreds of "
        "millions of faces every search returns strangers. Results are leads to verify, "
        "never identifications."
    ),
}


def write_report(result: LabResult, out_dir: Path) -> Path:
    """Write JSON, plots and HTML into ``out_dir``; returns the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = result.as_dict()
    data["plots"] = write_plots(result, out_dir)
    data["explanations"] = EXPLAIN
    (out_dir / JSON_NAME).write_text(json.dumps(data, indent=1) + "\n")
    html_path = out_dir / HTML_NAME
    html_path.write_text(render_html(data))
    return html_path


def load_report(out_dir: Path) -> dict[str, Any]:
    path = out_dir / JSON_NAME if out_dir.is_dir() else out_dir
    if not path.is_file():
        raise NotFoundError(f"no evaluation report at {path}; run `faceatlas eval run` first")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise InvalidRequestError(f"{path} is not a report") from None
    return data


def fmt_rate(r: dict[str, Any] | None) -> str:
    """``0.0123 [0.01, 0.015] (12/975)``: a rate with its interval and evidence."""
    if r is None or not r.get("comparisons"):
        return "n/a"
    low, high = r["ci95"]
    return f"{r['rate']:.3g} [{low:.2g}, {high:.2g}] ({r['errors']:,}/{r['comparisons']:,})"


def _table(head: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{escape(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _imgs(names: list[str]) -> str:
    return "".join(f'<img src="{escape(n)}" alt="{escape(n)}">' for n in names)


def _section(title: str, key: str, body: str, plots: list[str]) -> str:
    return (
        f"<section><h2>{escape(title)}</h2><p class=explain>{escape(EXPLAIN[key])}</p>"
        f"{body}{_imgs(plots)}</section>"
    )


def render_html(data: dict[str, Any]) -> str:
    plots: dict[str, list[str]] = data.get("plots", {})
    cal = data["calibration"]
    parts = [
        _section(
            "Calibration",
            "calibration",
            _table(
                ["model", "target FMR", "threshold", "FMR observed at threshold", "source"],
                [
                    [
                        data["model_id"],
                        f"{cal['target_fmr']:g}",
                        f"{cal['threshold']:.4f}",
                        fmt_rate(cal["fmr_at_threshold"]),
                        cal["source"],
                    ]
                ],
            )
            + f"<p>Split: {escape(data['settings']['split'])}</p>",
            plots.get("calibration", []),
        )
    ]
    v = data.get("verify")
    if v:
        acc = v["accuracy"]
        rows = [
            [
                curve["name"],
                f"{row['target_fmr']:g}",
                f"{row['threshold']:.4f}",
                fmt_rate(row["fnmr"]),
                fmt_rate(row["fmr"]),
                "yes" if row["resolvable"] else "no (too few impostor pairs)",
            ]
            for curve in (v["view2"], v["extended"])
            for row in curve["fnmr_at_fmr"]
        ]
        body = (
            f"<p>View 2 accuracy {acc['mean_accuracy']:.4f} ± {acc['std_accuracy']:.4f} over "
            f"{acc['folds']} folds ({acc['pairs']} pairs); EER {v['view2']['eer']:.4f} (View 2), "
            f"{v['extended']['eer']:.4f} (extended impostors).</p>"
            + _table(["impostors", "target FMR", "threshold", "FNMR", "FMR", "resolvable"], rows)
        )
        parts.append(_section("Verification (1:1)", "verify", body, plots.get("verify", [])))
    ident = data.get("identify")
    if ident:
        cmc = ident["cmc"]
        body = (
            f"<p>Gallery {ident['gallery_people']:,} people; {ident['mated_searches']:,} mated "
            f"and {ident['nonmated_searches']:,} non-mated searches. Rank 1: {cmc['rank_1']:.4f}, "
            f"rank 5: {cmc['rank_5']:.4f}, rank 20: {cmc['rank_20']:.4f}.</p>"
            + _table(
                ["target FPIR", "threshold", "FNIR (rank 1)", "FPIR"],
                [
                    [
                        f"{r['target_fpir']:g}",
                        f"{r['threshold']:.4f}",
                        fmt_rate(r["fnir"]),
                        fmt_rate(r["fpir"]),
                    ]
                    for r in ident["fnir_at_fpir"]
                ],
            )
        )
        at = ident.get("at_calibrated_threshold")
        if at:
            body += (
                f"<p>At the calibrated threshold {at['threshold']:.4f}: FNIR "
                f"{fmt_rate(at['fnir_rank1'])}, FPIR {fmt_rate(at['fpir'])}.</p>"
            )
        if ident["distractors"]:
            keys = [k for k in ident["distractors"][0] if k not in ("distractors",)]
            body += _table(
                ["distractors", *keys],
                [[str(s["distractors"]), *(str(s[k]) for k in keys)] for s in ident["distractors"]],
            )
        parts.append(_section("Identification (1:N)", "identify", body, plots.get("identify", [])))
    demo = data.get("demographics") or []
    if demo:
        body = ""
        for d in demo:
            names = list(d["thresholds"])
            rows = [
                [
                    g["group"],
                    str(g["people"]),
                    *(fmt_rate(g["fmr"][n]) for n in names),
                    fmt_rate(g["fnmr"][names[0]]),
                ]
                for g in d["groups"]
            ]
            ratio = d["worst_to_best"]["fmr"][names[0]]
            body += (
                f"<h3>{escape(d['corpus'])}: {escape(d['attribute'])}</h3>"
                + _table(
                    [
                        "group",
                        "people",
                        *(f"FMR @ {n} ({d['thresholds'][n]:.4f})" for n in names),
                        f"FNMR @ {names[0]}",
                    ],
                    rows,
                )
                + f"<p>Worst/best FMR at {escape(names[0])}: "
                f"{escape(str(ratio.get('ratio')))} ({escape(str(ratio.get('worst', '')))} vs "
                f"{escape(str(ratio.get('best', '')))}) {escape(ratio.get('note', ''))}</p>"
            )
        for g in data.get("group_search") or []:
            names = list(g["thresholds"])
            body += f"<h3>{escape(g['corpus'])}: {escape(g['attribute'])}, searches</h3>" + _table(
                ["group", "searches", *(f"stranger lead @ {n}" for n in names), "wrong on top"],
                [
                    [
                        r["group"],
                        str(r["searches"]),
                        *(fmt_rate(r["stranger_lead"][n]) for n in names),
                        fmt_rate(r["wrong_on_top"][names[0]]),
                    ]
                    for r in g["groups"]
                ],
            )
        parts.append(
            _section(
                "Demographic differentials", "demographics", body, plots.get("demographics", [])
            )
        )
    audits = data.get("audit") or []
    if audits:
        body = ""
        for a in audits:
            body += f"<h3>{escape(a['description'])}</h3>" + _table(
                [
                    "setting",
                    "similarity",
                    "searches with a false match",
                    "predicted (95% CI)",
                    "false candidates per search",
                ],
                [
                    [
                        r["setting"],
                        f"{r['similarity']:.4f}",
                        fmt_rate(r["probes_with_false_match"]),
                        _predicted(r),
                        f"{r['false_candidates_per_probe']:g}",
                    ]
                    for r in a["rows"]
                ],
            )
        if audits[0]["extrapolation"]:
            names = [r["setting"] for r in audits[0]["rows"]]
            body += "<h3>Extrapolated to larger indexes</h3>" + _table(
                [
                    "faces searched",
                    *(f"{n}: P(any false match) / expected false candidates" for n in names),
                ],
                [
                    [
                        f"{e['gallery_size']:,}",
                        *(
                            f"{e[n]['predicted_fpir']:.3g} / {e[n]['expected_false_candidates_per_search']:g}"
                            for n in names
                        ),
                    ]
                    for e in audits[0]["extrapolation"]
                ],
            )
        parts.append(_section("False-match audit", "audit", body, plots.get("audit", [])))
    datasets = _table(
        ["data set", "photos", "people", "centred-box fallback", "unreadable"],
        [
            [
                d["corpus"],
                str(d["photos"]),
                str(d["people"]),
                str(d["centred_box_fallback"]),
                str(d["unreadable"]),
            ]
            for d in data["datasets"]
        ],
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>FaceAtlas evaluation</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
        "font-size:90%}.explain{background:#f4f6f8;padding:.6em}img{max-width:100%}</style>"
        f"</head><body><h1>FaceAtlas evaluation report</h1><p>Model {escape(data['model_id'])}, "
        f"generated {escape(data['generated_at'])}. Search results are investigative leads, "
        f"never identifications.</p>{datasets}{''.join(parts)}</body></html>\n"
    )


def _predicted(row: dict[str, Any]) -> str:
    p = row.get("predicted_fpir")
    if not p:
        return "n/a"
    return f"{p['fpir']:.3g} [{p['ci95'][0]:.2g}, {p['ci95'][1]:.2g}]"

"""Case report export: the PDF's text holds the case number, each decision and the audit
hashes; the HTML loads nothing from anywhere."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader

from faceatlas import Atlas
from faceatlas.cases import (
    ComparisonForm,
    Conclusion,
    build_report,
    render_html,
    render_pdf,
)
from faceatlas.cases.report import REPORT_NOTICE
from tests.test_cases import (
    EXCLUDED_FORM,
    LEAD_FORM,
    audited_search,
    desk_of,
    make_team,
    open_case,
)


def test_report_pdf_and_html(people_atlas: Atlas, probe_photos: Path) -> None:
    team = make_team(people_atlas)
    desk = desk_of(people_atlas)
    number = open_case(desk, team)
    for who, photo in ((team.alice, "obama1.jpg"), (team.bob, "alex_lacamoire1.jpg")):
        desk.record_search(
            who, number, audited_search(people_atlas, who, number, probe_photos / photo)
        )
    first, second = desk.candidates(team.alice, number)[:2]
    lead = desk.decide(
        team.alice, first.id, Conclusion.POSSIBLE_LEAD, ComparisonForm.parse(LEAD_FORM), "alike"
    )
    excluded = desk.decide(
        team.bob, second.id, Conclusion.EXCLUDED, ComparisonForm.parse(EXCLUDED_FORM), "unlike"
    )
    desk.verify(
        team.vera, lead.decision_id, Conclusion.POSSIBLE_LEAD, ComparisonForm.parse(LEAD_FORM), "ok"
    )
    desk.verify(
        team.alice,
        excluded.decision_id,
        Conclusion.EXCLUDED,
        ComparisonForm.parse(EXCLUDED_FORM),
        "agreed",
    )

    report = build_report(desk, people_atlas.catalog, team.carol, number)
    assert report.audit_ok and len(report.decisions) == 2
    assert report.audit[-1].action == "case_report_exported"
    hashes = [a.entry_hash for a in report.audit]
    decisions = {d.decision_id: d for d in report.decisions}

    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(report))).pages
    )
    flat = re.sub(r"\s+", " ", text)
    assert number in flat
    assert "investigative lead, not an identification" in flat
    for d in decisions.values():
        assert f"Decision {d.decision_id}: {d.conclusion.value} by {d.examiner}" in flat  # type: ignore[union-attr]
        assert d.content_sha256 is not None and d.content_sha256 in text
    assert "verified lead" in flat
    missing = [h for h in hashes if h not in text]
    assert not missing, f"audit hashes not in the PDF text: {missing}"

    html = render_html(report)
    assert number in html and REPORT_NOTICE in html
    assert all(h in html for h in hashes)
    assert html.count('src="data:image/jpeg;base64,') >= 3  # two probes and the crops
    resources = re.findall(r"""(?:src|href)\s*=\s*["']?\s*([^"'\s>]+)""", html, re.I)
    assert all(r.startswith("data:") for r in resources), resources
    assert not re.search(r"url\(|@import|<link|<script", html, re.I)

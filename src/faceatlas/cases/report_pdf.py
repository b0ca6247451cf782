"""The case report as PDF, drawn with fpdf2 from the same :class:`CaseReport` as the HTML.

fpdf2 is pure Python and needs no system library. The report uses the PDF core fonts
(Helvetica, Courier), so text outside Latin-1 is shown with ``?`` in place of the
characters it cannot draw; the HTML report shows it exactly.
"""

from __future__ import annotations

import base64
import io

from fpdf import FPDF

from faceatlas.cases.records import DecisionView
from faceatlas.cases.report import CandidateEntry, CaseReport

__all__ = ["render_pdf"]

CROP_MM = 28.0


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _image(uri: str) -> io.BytesIO:
    return io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


class _Pdf(FPDF):
    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 13)
        self.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def line_text(self, text: str, *, style: str = "", size: float = 9) -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, 4.6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def hash_text(self, label: str, digest: str) -> None:
        self.set_font("Helvetica", "", 8)
        self.cell(self.get_string_width(label) + 1, 4.6, _latin1(label))
        self.set_font("Courier", "", 7.5)
        self.cell(0, 4.6, digest, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)


def render_pdf(report: CaseReport) -> bytes:
    """The report as PDF bytes."""
    pdf = _Pdf(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(f"Case report {report.case.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(
        0, 9, _latin1(f"Case report {report.case.number}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.line_text(f"Generated {report.generated_at} by {report.generated_by}.")
    pdf.ln(2)
    pdf.set_draw_color(176, 0, 32)
    pdf.set_fill_color(253, 236, 238)
    pdf.set_line_width(0.8)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, _latin1(report.notice), border=1, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    _case(pdf, report)
    _probes(pdf, report)
    pdf.heading("Candidates and decisions")
    for entry in report.candidates:
        _candidate(pdf, entry)
    _audit(pdf, report)
    return bytes(pdf.output())


def _case(pdf: _Pdf, report: CaseReport) -> None:
    case = report.case
    pdf.heading("Case")
    closed = f", closed {case.closed_at} by {case.closed_by}" if case.closed_at else ""
    for label, value in (
        ("Number", case.number),
        ("Purpose", case.purpose),
        ("Legal basis", case.legal_basis),
        ("Owner", f"{case.owner} (unit {case.owner_unit or 'none'})"),
        ("Status", case.status.value + closed),
        ("Opened", case.created_at),
        ("Probe retention until", case.retention_until),
    ):
        pdf.line_text(f"{label}: {value}")
    pdf.heading("Members")
    for m in report.members:
        pdf.line_text(f"{m.username}: {m.role.value} (added by {m.added_by} at {m.added_at})")
    pdf.heading("Searches")
    for s in report.searches:
        pdf.line_text(
            f"Search #{s.audit_seq} by {s.searched_by} with probe {s.probe_id}: model "
            f"{s.model_id}, threshold in force {_num(s.threshold)} ({s.threshold_source}), "
            f"recorded {s.recorded_at}"
        )


def _probes(pdf: _Pdf, report: CaseReport) -> None:
    pdf.heading("Probes")
    for p in report.probes:
        pdf.line_text(
            f"Probe {p.probe.id}, uploaded by {p.probe.uploaded_by} at {p.probe.uploaded_at}"
        )
        pdf.hash_text("SHA-256 ", p.probe.sha256)
        if p.image_uri:
            pdf.image(_image(p.image_uri), h=40)
        else:
            pdf.line_text(
                f"Photo erased {p.probe.erased_at} under the case's retention.", style="I"
            )
        pdf.ln(1)


def _candidate(pdf: _Pdf, entry: CandidateEntry) -> None:
    c = entry.candidate
    if pdf.will_page_break(CROP_MM + 10):
        pdf.add_page()
    pdf.ln(2)
    top = pdf.get_y()
    if entry.crop_uri:
        pdf.image(_image(entry.crop_uri), x=pdf.l_margin, y=top, w=CROP_MM)
    pdf.set_left_margin(pdf.l_margin + CROP_MM + 4)
    pdf.set_xy(pdf.l_margin, top)
    pdf.line_text(
        f"Search #{entry.search.audit_seq}, rank {c.rank}: face {c.face_id} "
        "(a lead, not an identification)",
        style="B",
    )
    pdf.line_text(
        f"Similarity {_num(c.similarity)}; fair score {_num(c.score)}; estimated false-match "
        f"rate {_rate(c.estimated_fmr)} (95% upper {_rate(c.estimated_fmr_upper)}); estimated "
        f"false-candidate rate per search {_rate(c.estimated_fpir)} (95% upper "
        f"{_rate(c.estimated_fpir_upper)}); model {entry.search.model_id}, threshold "
        f"{_num(entry.search.threshold)}."
    )
    pdf.line_text("Sources: " + ("; ".join(entry.sources) or "none left in the catalog"))
    _decision(pdf, entry.decision)
    pdf.set_left_margin(pdf.l_margin - CROP_MM - 4)
    pdf.set_x(pdf.l_margin)
    pdf.set_y(max(pdf.get_y(), top + CROP_MM + 2))


def _decision(pdf: _Pdf, d: DecisionView | None) -> None:
    if d is None:
        pdf.line_text("Not examined.", style="I")
        return
    if d.sealed or d.conclusion is None or d.form is None:
        pdf.line_text(
            f"Decision {d.decision_id} by {d.examiner} at {d.decided_at}: sealed until verified.",
            style="I",
        )
        return
    lead = " (verified lead)" if d.verified_lead else ""
    pdf.line_text(
        f"Decision {d.decision_id}: {d.conclusion.value} by {d.examiner} at {d.decided_at} - "
        f"{d.status.value.replace('_', ' ')}{lead}",
        style="B",
    )
    pdf.line_text(f"Reason: {d.reason}")
    features = d.form.get("features", {})
    pdf.line_text(
        "Comparison: "
        + "; ".join(f"{k.replace('_', ' ')} {v.replace('_', ' ')}" for k, v in features.items())
    )
    if d.form.get("notes"):
        pdf.line_text(f"Notes: {d.form['notes']}")
    pdf.hash_text(f"Audit entry #{d.audit_seq}, content SHA-256 ", d.content_sha256 or "")
    for v in d.verifications:
        pdf.line_text(
            f"Verification by {v.verifier} at {v.verified_at}: {v.conclusion.value} "
            f"({'agrees' if v.agrees else 'disagrees'}); reason: {v.reason}; audit entry "
            f"#{v.audit_seq}"
        )


def _audit(pdf: _Pdf, report: CaseReport) -> None:
    pdf.heading("Audit entries")
    verdict = "verified" if report.audit_ok else "did NOT verify"
    pdf.line_text(
        f"The whole audit log {verdict} when this report was made. Each entry's hash is "
        "SHA-256 of the previous entry's hash and the entry's content."
    )
    for a in report.audit:
        pdf.line_text(f"#{a.seq} {a.at} {a.actor} ({a.actor_role}) {a.action}", size=8)
        pdf.hash_text("    hash ", a.entry_hash)

"""A report document (`wbs.reports.documents` snapshot) as PDF, with the Unicode font."""

from __future__ import annotations

from typing import Any

from fpdf.enums import WrapMode

from wbs.reports.pdf_font import FAMILY, unicode_pdf


def render_pdf(doc: dict[str, Any]) -> bytes:
    pdf = unicode_pdf(doc["title"])
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 8, doc["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    head = [doc.get("pemda") or "", f"Periode {doc['period'][0]} s.d. {doc['period'][1]}",
            f"Data per {doc['as_of']}"]
    if doc.get("unit"):
        head.insert(1, f"Unit: {doc['unit']}")
    for line in head:
        if line:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    for section in doc["sections"]:
        pdf.ln(3)
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(0, 7, section["title"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, size=8)
        if "text" in section:
            pdf.set_font(FAMILY, size=10)
            pdf.multi_cell(0, 6, section["text"], new_x="LMARGIN", new_y="NEXT",
                           wrapmode=WrapMode.CHAR)
            continue
        with pdf.table(text_align="LEFT", line_height=5, wrapmode=WrapMode.CHAR) as table:
            header = table.row()
            for cell in section["header"]:
                header.cell(cell)
            for values in section["rows"]:
                row = table.row()
                for cell in values:
                    row.cell(str(cell))
        if section.get("note"):
            pdf.multi_cell(0, 5, section["note"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, size=7)
        pdf.multi_cell(0, 4, f"Sumber: {section['source']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

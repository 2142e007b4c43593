"""Tables for reports: aligned plain text for terminals, GitHub markdown for PR comments."""

from __future__ import annotations

from collections.abc import Sequence

from mailoauth.base.style import paint


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "", colour: bool = False
) -> list[str]:
    """Columns padded to their widest cell; the last column is not padded. With `colour`, the first column
    (a status: pass, warn, fail, ...) is painted in its colour."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]

    def line(cells: Sequence[str], tone: bool = True) -> str:
        padded = [str(c).ljust(w) for c, w in zip(cells, widths, strict=False)] + [str(cells[-1])]
        if tone:
            padded[0] = paint(padded[0], str(cells[0]), colour)
        return (indent + "  ".join(padded)).rstrip()

    return [line([h.upper() for h in headers], tone=False), *(line(r) for r in rows)]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def cell(value: str) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows),
    ]

"""Markdown tables, the one writer behind the report, the model cards and the analysis tools."""

from __future__ import annotations

from collections.abc import Sequence


def cell(value) -> str:
    """``value`` as one table cell: ``|`` escaped, line breaks made spaces."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def row(cells: Sequence) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def table(header: Sequence, rows: Sequence[Sequence]) -> list[str]:
    """The lines of a GitHub-flavoured Markdown table: header, ``---`` rule, one line per row.

    Raises:
        ValueError: a row with another number of cells than the header.
    """
    for r in rows:
        if len(r) != len(header):
            raise ValueError(f"a table row has {len(r)} cells, the header {len(header)}: {list(r)}")
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows)]

"""``draw_text_table``: columns of text beside a panel, each as wide as its widest line.

Column offsets are measured from the text itself (matplotlib's text paths, in points), not
set as fractions of the axes' width, so a long cell ("105/105", "(optimisation-limited)")
never runs into the next column whatever the figure's size.
"""

from __future__ import annotations

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath
from matplotlib.transforms import ScaledTranslation

#: Space between two columns, in points.
GAP = 10.0
#: The smallest share of its font size a table is shrunk to when it is wider than its axes.
MIN_SCALE = 0.7


def _cell(cell, fontsize: float, scale: float = 1.0) -> tuple[str, dict]:
    """A cell as (text, text keyword arguments): a string, or (string, kwargs), its font
    size (``fontsize`` unless the cell sets one) times ``scale``."""
    text, kw = (cell, {}) if isinstance(cell, str) else (cell[0], dict(cell[1]))
    kw["fontsize"] = kw.get("fontsize", fontsize) * scale
    return text, kw


def text_width(text: str, fontsize: float, fontweight="normal") -> float:
    """Width of ``text`` (its longest line) in points at ``fontsize``."""
    prop = FontProperties(size=fontsize, weight=fontweight)
    return max((TextPath((0, 0), line, prop=prop).get_extents().width if line.strip() else 0.0)
               for line in text.split("\n"))


def table_width(heads, rows, fontsize: float) -> float:
    """Width of the table in points: the sum of its columns and the gaps between them."""
    return sum(_column_widths(heads, rows, fontsize)) + GAP * (len(heads) - 1)


def _column_widths(heads, rows, fontsize: float, scale: float = 1.0) -> list[float]:
    widths = [text_width(h, fontsize * scale, "bold") for h in heads]
    for row in rows:
        if not isinstance(row, list):
            continue  # a row of one cell spans the table and sets no column's width
        for j, cell in enumerate(row):
            text, kw = _cell(cell, fontsize, scale)
            widths[j] = max(widths[j], text_width(text, kw["fontsize"],
                                                  kw.get("fontweight", "normal")))
    return widths


def draw_text_table(ax, heads, rows, ys, head_y, fontsize: float = 9.5) -> None:
    """Draw a table on ``ax`` (its axis turned off): the bold ``heads`` at ``head_y`` and
    ``rows[i]`` at ``ys[i]`` (both in ``ax``'s y data coordinates), left-aligned columns.

    A row is a list with one cell per column, or a single cell spanning the table; a cell
    is a string (lines split by "\\n") or (string, text keyword arguments). A table wider
    than ``ax`` is drawn at a smaller font size, down to ``MIN_SCALE`` of ``fontsize``.
    """
    ax.set_axis_off()
    fig = ax.figure
    available = ax.get_position().width * fig.get_figwidth() * 72
    scale = min(1.0, max(MIN_SCALE, available / max(table_width(heads, rows, fontsize), 1.0)))
    widths = _column_widths(heads, rows, fontsize, scale)
    starts = [sum(widths[:j]) + GAP * scale * j for j in range(len(heads))]

    def put(x_points, y, cell, **extra):
        text, kw = _cell(cell, fontsize, scale)
        where = ax.get_yaxis_transform() + ScaledTranslation(x_points / 72, 0,
                                                             fig.dpi_scale_trans)
        ax.text(0.0, y, text, ha="left", va="center", transform=where, **kw, **extra)

    for row, y in zip(rows, ys):
        if not isinstance(row, list):
            put(0.0, y, row)
            continue
        for x, cell in zip(starts, row):
            put(x, y, cell)
    for x, head in zip(starts, heads):
        put(x, head_y, head, fontweight="bold")

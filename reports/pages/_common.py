"""Page furniture shared by every page: header, caption, footer, text blocks, tables.

Positions are in figure coordinates (0..1 across an A4 landscape page). Text is
measured in characters of DejaVu Sans (``style.chars_per_line``), so captions are
wrapped to the page width before they are drawn and never run off the page.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .. import style

LEFT, RIGHT = 0.045, 0.965
HEADER_BOTTOM = 0.875  # the body starts below this
FOOTER_TOP = 0.035  # captions start above this
PT = 1 / (style.PAGE_SIZE[1] * 72)  # one point as a fraction of the page height


def line_height(size: float, spacing: float = 1.35) -> float:
    return size * spacing * PT


def new_page(title: str, subtitle: str = ""):
    """A blank A4 landscape figure with the page title (and subtitle) at the top."""
    fig = Figure(figsize=style.PAGE_SIZE)
    fig.text(LEFT, 0.955, title, fontsize=style.TITLE_SIZE, fontweight="bold", va="top",
             ha="left")
    if subtitle:
        width = style.chars_per_line(RIGHT - LEFT, style.SUBTITLE_SIZE)
        lines = style.wrap(subtitle, width)[:2]
        fig.text(LEFT, 0.912, "\n".join(lines), fontsize=style.SUBTITLE_SIZE, va="top",
                 ha="left", color=style.GREY, linespacing=1.3)
    fig._nprates_title = title
    return fig


def caption(fig, paragraphs, cautions=(), max_lines: int = 11, overflow_hint: bool = True):
    """Draw a wrapped caption above the footer; returns the caption's top (figure y).

    ``paragraphs``: plain-language text; ``cautions``: warnings from the analysis,
    numbered. Lines beyond ``max_lines`` are left out and a pointer to the notes page
    takes their place.
    """
    lines = caption_lines(paragraphs, cautions, max_lines, overflow_hint)
    if not lines:
        return FOOTER_TOP
    y0 = FOOTER_TOP + 0.01
    # the caption is drawn as one text block from its bottom up
    fig.text(LEFT, y0, "\n".join(lines), fontsize=style.CAPTION_SIZE, va="bottom", ha="left",
             linespacing=1.35, color="#222222")
    top = caption_top(lines)
    fig.add_artist(Line2D([LEFT, RIGHT], [top - 0.007, top - 0.007], color=style.LIGHT,
                              lw=0.8, transform=fig.transFigure))
    return top


def caption_lines(paragraphs, cautions=(), max_lines: int = 11,
                  overflow_hint: bool = True) -> list:
    """The wrapped lines ``caption`` draws (its arguments)."""
    width = style.chars_per_line(RIGHT - LEFT, style.CAPTION_SIZE)
    lines = []
    for p in paragraphs:
        if p:
            lines += style.wrap(p, width)
    cautions = list(cautions)
    if cautions:
        lines.append("Cautions from the analysis:")
        for i, c in enumerate(cautions, 1):
            wrapped = style.wrap(f"[{i}] {c}", width - 4)
            lines += [wrapped[0]] + ["      " + w for w in wrapped[1:]]
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1]
        if overflow_hint:
            lines.append("(continued on the 'Notes and cautions' page at the end of the report)")
    return lines


def caption_top(lines) -> float:
    """The figure y above a caption of ``lines`` (``caption_lines``), its rule included."""
    if not lines:
        return FOOTER_TOP
    return FOOTER_TOP + 0.01 + line_height(style.CAPTION_SIZE) * len(lines) + 0.015


def footer(fig, left_text: str, number: int, total: int) -> None:
    fig.text(LEFT, 0.015, left_text, fontsize=style.SMALL_SIZE, color=style.GREY, ha="left",
             va="bottom")
    fig.text(RIGHT, 0.015, f"page {number} of {total}", fontsize=style.SMALL_SIZE,
             color=style.GREY, ha="right", va="bottom")


def key_values(fig, x, y, items, key_width, width_chars, size=style.BODY_SIZE) -> float:
    """Draw 'key   value' lines (values wrapped); returns the y below the block."""
    h = line_height(size, 1.4)
    for key, value in items:
        lines = style.wrap(value, width_chars) if value else [""]
        fig.text(x, y, key, fontsize=size, fontweight="bold", va="top", ha="left",
                 color="#333333")
        for i, ln in enumerate(lines):
            fig.text(x + key_width, y - i * h, ln, fontsize=size, va="top", ha="left")
        y -= h * len(lines)
    return y


HEADING_SIZE = 12.5  # points


def heading(fig, x, y, text, size=HEADING_SIZE) -> float:
    fig.text(x, y, text, fontsize=size, fontweight="bold", va="top", ha="left",
             color="#1a1a1a")
    return y - heading_height(size)


def heading_height(size=HEADING_SIZE) -> float:
    """The figure height a ``heading`` of font ``size`` takes."""
    return line_height(size, 1.6)


def table(fig, x0, x1, y, header, rows, fracs, aligns=None, size=9.5, colors=None,
          color_col=0, shade=True) -> float:
    """A simple text table across [x0, x1]; ``fracs`` are column widths (sum 1).

    ``colors``: optional per-row colour of column ``color_col``'s text. Returns the y
    below the table.
    """
    aligns = aligns or ["left"] * len(header)
    h = line_height(size, 1.55)
    edges = [x0]
    for f in fracs:
        edges.append(edges[-1] + f * (x1 - x0))

    def put(cells, yy, bold=False, color=None):
        for j, cell in enumerate(cells):
            a = aligns[j]
            xx = edges[j] + 0.004 if a == "left" else (edges[j + 1] - 0.006 if a == "right"
                                                        else (edges[j] + edges[j + 1]) / 2)
            fig.text(xx, yy - h * 0.5, str(cell), fontsize=size, va="center", ha=a,
                     fontweight="bold" if (bold or (color and j == color_col)) else "normal",
                     color=(color if (j == color_col and color) else "#111111"))

    put(header, y, bold=True)
    fig.add_artist(Line2D([x0, x1], [y - h, y - h], color="#777777", lw=0.8,
                              transform=fig.transFigure))
    y -= h
    for i, row in enumerate(rows):
        if shade and i % 2 == 1:
            fig.add_artist(Rectangle((x0, y - h), x1 - x0, h, color="#F3F3F3", lw=0,
                                         transform=fig.transFigure, zorder=-1))
        put(row, y, color=(colors[i] if colors else None))
        y -= h
    fig.add_artist(Line2D([x0, x1], [y, y], color="#777777", lw=0.8,
                              transform=fig.transFigure))
    return y


"""``Summary``: a results summary in the style of statsmodels, as text, LaTeX or HTML.

A Summary is a list of parts: a header of 'key: value' pairs in two columns, tables
of formatted cells, paragraphs, rules and numbered notes. ``as_text()`` (and ``str``)
gives the fixed-width text that ``print(fit.summary())`` shows; ``as_latex()`` a
LaTeX fragment for the body of a plain ``article`` (no package needed: its parts are
stacked, each table centred in its own paragraph, and every character is set with the
default OT1 font, so ``P>|t|`` prints as written); ``as_html()`` an HTML fragment of
tables (Jupyter shows it through ``_repr_html_``).

statsmodels' ``SimpleTable`` is not used for LaTeX: its tabulars need the booktabs
package, which a plain article does not load.
"""

from __future__ import annotations

import html

from .formatting import WIDTH, num, wrap

#: Characters that are special to LaTeX, or print as other glyphs in the OT1 encoding
#: (``|`` ``<`` ``>`` ``"``), or are outside it (the Greek and maths signs of the texts).
_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "|": r"$|$", "<": r"$<$", ">": r"$>$",
          '"': "''", "β": r"$\beta$", "σ": r"$\sigma$", "±": r"$\pm$", "≥": r"$\geq$",
          "≤": r"$\leq$", "×": r"$\times$", "−": "-", "–": "--", "—": "---", "·": r"$\cdot$",
          "≈": r"$\approx$", "∞": r"$\infty$", "√": r"$\surd$", "†": r"$\dagger$"}


def _tex(s) -> str:
    """``s`` set verbatim in LaTeX's default OT1 text font (other non-ASCII: '?'); a
    leading ``[`` is shielded from being read as the optional argument of a ``\\``."""
    text = "".join(_LATEX.get(ch, ch if ord(ch) < 128 else "?") for ch in str(s))
    return "{}" + text if text.startswith("[") else text


class Summary:
    """A statsmodels-style summary: build with the ``add_*`` methods, render with
    ``as_text()``, ``as_latex()`` or ``as_html()``."""

    def __init__(self):
        self.parts: list = []

    # ------------------------------------------------------------------ building
    def add_header(self, title: str, left, right) -> None:
        """A centred title and two columns of (key, value) pairs between rules."""
        self.parts.append(("header", title, [tuple(p) for p in left],
                           [tuple(p) for p in right]))

    def add_table(self, columns, rows, widths, first_left: bool = False,
                  rule: bool = False) -> None:
        """A table of already formatted cells.

        columns : header cells; rows : lists of cells (str); widths : characters per
        column in the text form; first_left : left-align the first column;
        rule : a dashed rule under the header in the text form.
        """
        self.parts.append(("table", list(columns), [[str(c) for c in r] for r in rows],
                           list(widths), bool(first_left), bool(rule)))

    def add_text(self, text: str) -> None:
        """A paragraph, wrapped to the text width."""
        self.parts.append(("text", str(text)))

    def add_rule(self, char: str = "=") -> None:
        """A full-width rule in the text form (a horizontal line in HTML)."""
        self.parts.append(("rule", char))

    def add_notes(self, title: str, items) -> None:
        """Numbered notes under a title (nothing when ``items`` is empty)."""
        if items:
            self.parts.append(("notes", title, [str(i) for i in items]))

    def add_coefficients(self, rows, level: float) -> None:
        """A coefficient table: rows of (name, coef, std err, t, p, low, high) numbers."""
        a = (1 - level) / 2
        cols = ["", "coef", "std err", "t", "P>|t|", f"[{a:.3g}", f"{1 - a:.3g}]"]
        cells = [[name, num(coef), num(se), num(t, ".3f"), num(p, ".3f"), num(lo), num(hi)]
                 for name, coef, se, t, p, lo, hi in rows]
        self.add_table(cols, cells, [18, 10, 10, 9, 9, 11, 11], first_left=True, rule=True)

    def add_frame(self, df, formats: dict) -> None:
        """A DataFrame as a table: ``formats`` maps column -> (header, width, fmt), fmt
        None for text; columns missing from ``df`` are skipped."""
        cols = [c for c in formats if c in df.columns]
        rows = [[row[c] if formats[c][2] is None else num(row[c], formats[c][2])
                 for c in cols] for _, row in df.iterrows()]
        self.add_table([formats[c][0] for c in cols], rows, [formats[c][1] for c in cols])

    # ------------------------------------------------------------------ text
    def as_text(self) -> str:
        lines: list = []
        for part in self.parts:
            kind = part[0]
            if kind == "header":
                lines += _text_header(*part[1:])
            elif kind == "table":
                lines += _text_table(*part[1:])
            elif kind == "text":
                lines += wrap(part[1])
            elif kind == "rule":
                lines.append(part[1] * WIDTH)
            else:
                lines.append(f"{part[1]}:")
                for i, item in enumerate(part[2], 1):
                    lines += wrap(f"[{i}] {item}", indent="    ")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    # ------------------------------------------------------------------ LaTeX
    def as_latex(self) -> str:
        out: list = []
        for part in self.parts:
            kind = part[0]
            if kind == "header":
                _, title, left, right = part
                out.append(r"\begin{center}")
                out.append(r"\textbf{" + _tex(title) + r"}\\[1ex]")
                out.append(r"\begin{tabular}{lrlr}")
                out.append(r"\hline")
                for i in range(max(len(left), len(right))):
                    cells = []
                    for pairs in (left, right):
                        k, v = pairs[i] if i < len(pairs) else ("", "")
                        cells += [_tex(f"{k}:" if k else ""), _tex(v)]
                    out.append(" & ".join(cells) + r" \\")
                out.append(r"\hline")
                out.append(r"\end{tabular}")
                out.append(r"\end{center}")
            elif kind == "table":
                _, cols, rows, _w, first_left, _r = part
                spec = ("l" if first_left else "r") + "r" * (len(cols) - 1)
                out.append(r"\begin{center}")
                out.append(r"\begin{tabular}{" + spec + "}")
                out.append(" & ".join(_tex(c) for c in cols) + r" \\")
                out.append(r"\hline")
                out += [" & ".join(_tex(c) for c in r) + r" \\" for r in rows]
                out.append(r"\end{tabular}")
                out.append(r"\end{center}")
            elif kind == "text":
                out.append("\n" + _tex(part[1]) + "\n")
            elif kind == "notes":
                out.append(r"\noindent " + _tex(part[1]) + ":")
                out.append(r"\begin{enumerate}")
                out += [r"\item " + _tex(item) for item in part[2]]
                out.append(r"\end{enumerate}")
        return "\n".join(out)

    # ------------------------------------------------------------------ HTML
    def as_html(self) -> str:
        e = html.escape
        out: list = []
        for part in self.parts:
            kind = part[0]
            if kind == "header":
                _, title, left, right = part
                out.append(f"<table class=\"simpletable\"><caption>{e(title)}</caption>")
                for i in range(max(len(left), len(right))):
                    cells = []
                    for pairs in (left, right):
                        k, v = pairs[i] if i < len(pairs) else ("", "")
                        cells.append(f"<th>{e(f'{k}:' if k else '')}</th><td>{e(str(v))}</td>")
                    out.append("<tr>" + "".join(cells) + "</tr>")
                out.append("</table>")
            elif kind == "table":
                _, cols, rows, _w, _f, _r = part
                out.append("<table class=\"simpletable\">")
                out.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                        for r in rows]
                out.append("</table>")
            elif kind == "text":
                out.append(f"<p>{e(part[1])}</p>")
            elif kind == "rule":
                continue
            else:
                out.append(f"<p>{e(part[1])}:</p><ol>"
                           + "".join(f"<li>{e(i)}</li>" for i in part[2]) + "</ol>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()


def _text_header(title, left, right) -> list:
    half = WIDTH // 2
    lines = [title.center(WIDTH).rstrip(), "=" * WIDTH]
    for i in range(max(len(left), len(right))):
        cells = []
        for pairs in (left, right):
            if i < len(pairs):
                k, v = pairs[i]
                k, v = f"{k}:", str(v)
                cells.append(k + v.rjust(max(half - 2 - len(k), len(v) + 1)))
            else:
                cells.append(" " * (half - 2))
        lines.append((cells[0] + "    " + cells[1]).rstrip())
    lines.append("=" * WIDTH)
    return lines


def _text_table(cols, rows, widths, first_left, rule) -> list:
    def line(cells):
        out = []
        for j, (c, w) in enumerate(zip(cells, widths)):
            out.append(f"{c:<{w}}" if (first_left and j == 0) else f"{c:>{w}}")
        return "".join(out).rstrip()

    lines = [line(cols)]
    if rule:
        lines.append("-" * WIDTH)
    lines += [line(r) for r in rows]
    return lines

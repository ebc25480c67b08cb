"""Last page(s): every theory check in words and every caution of the analysis."""

from __future__ import annotations

from .. import style
from ..verdicts import check_sentence
from ._common import HEADER_BOTTOM, LEFT, RIGHT, line_height, new_page

TITLE = "Notes and cautions"


def _entries(data):
    """(heading, [paragraphs]) blocks, in page order."""
    blocks = []
    for t in data.targets:
        paras = []
        for e in data.estimators_of(t):
            item = data.fits[(t, e)]
            if item.check is not None:
                paras.append((e, check_sentence(item)))
            elif item.fit is not None:
                paras.append((e, f"Fitted exponent {item.fit.exponent:.3f} "
                                 f"{style.fmt_ci(*item.fit.ci)}; no theoretical exponent is "
                                 f"known for this target."))
            else:
                paras.append((e, f"No exponent: {item.error}"))
        for p in data.pairs.get(t, []):
            c = p.comparison
            if c is None:
                paras.append((f"{p.a} vs {p.b}", f"Not compared: {p.error}"))
                continue
            paras.append((f"{p.a} vs {p.b}",
                          f"Difference of exponents {c.difference:+.3f} "
                          f"{style.fmt_ci(*c.ci)}: {c.verdict} (margin +-{c.margin:g}, "
                          f"p(equal) = {c.p_value:.3g}, p(TOST) = {c.p_equivalence:.3g}, "
                          f"{c.pairing}, {c.n_pairs} paired cells)."))
        blocks.append((f"Target {t}: theory checks and comparisons", paras))
        cautions = [(subj, text) for (tg, subj, text) in data.notes_for(t)]
        blocks.append((f"Target {t}: cautions", cautions or [("", "None: no fit or "
                                                                 "comparison raised a "
                                                                 "warning.")]))
    return blocks


def pages(data):
    size = style.CAPTION_SIZE + 0.5
    h = line_height(size, 1.35)
    width = style.chars_per_line(RIGHT - LEFT - 0.02, size)
    # lay the text out into lines first, then cut it into pages
    lines = []  # (kind, text, subject)
    for head, paras in _entries(data):
        lines.append(("head", head, ""))
        for subj, text in paras:
            prefix = f"{subj}: " if subj else ""
            wrapped = style.wrap(prefix + text, width - 3)
            for i, w in enumerate(wrapped):
                lines.append(("text", ("" if i == 0 else "   ") + w, subj if i == 0 else ""))
            lines.append(("para", "", ""))
        lines.append(("gap", "", ""))
    per_page = int((HEADER_BOTTOM - 0.06) / h)
    chunks = []
    cur, used = [], 0
    for ln in lines:
        cost = {"head": 1.6, "para": 0.35, "gap": 0.6}.get(ln[0], 1)
        if used + cost > per_page and cur:
            chunks.append(cur)
            cur, used = [], 0
        if ln[0] == "gap" and not cur:
            continue
        cur.append(ln)
        used += cost
    if cur:
        chunks.append(cur)
    out = []
    for i, chunk in enumerate(chunks):
        part = f" ({i + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        fig = new_page(TITLE + part, "Every fit set against the theory, in words, and every "
                       "caution the analysis raised.")
        y = HEADER_BOTTOM - 0.01
        for kind, text, subj in chunk:
            if kind == "head":
                fig.text(LEFT, y, text, fontsize=11, fontweight="bold", va="top")
                y -= h * 1.6
            elif kind == "text":
                t = fig.text(LEFT + 0.01, y, text, fontsize=size, va="top")
                if subj in data.styles:
                    t.set_color("#111111")
                y -= h
            elif kind == "para":
                y -= h * 0.35
            else:
                y -= h * 0.6
        out.append(fig)
    return out

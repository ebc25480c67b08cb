"""``build_report``: a results table (or directory) as a multi-page vector PDF."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages

from nprates.analysis.capability import is_capability
from nprates.analysis.completeness import warn_if_incomplete

from .capability_data import CapabilityData
from .data import ReportData, load_input
from .pages import capability, comparison, diagnostics, forest, notes, rates, recovery
from .pages import title as title_page
from .pages._common import footer
from .style import report_style

#: The sections of a rate study's report, in page order (a section may span several pages),
#: with the module drawing each.
SECTIONS = ("title", "rates", "recovery", "exponents", "comparisons", "diagnostics", "notes")
_RATE_PAGES = {"rates": rates, "recovery": recovery, "exponents": forest,
               "comparisons": comparison, "diagnostics": diagnostics, "notes": notes}
#: The sections of a capability study's report.
CAPABILITY_SECTIONS = ("title", "accuracy")


def chosen_sections(sections, known) -> list:
    """The names in ``sections`` (None: all of ``known``), checked, in page order."""
    if sections is None:
        return list(known)
    if isinstance(sections, str):
        sections = [sections]
    names = [str(s) for s in sections]
    unknown = [s for s in names if s not in known]
    if unknown:
        raise ValueError(f"sections: unknown section {unknown[0]!r} (known: "
                         f"{', '.join(known)})")
    if not names:
        raise ValueError(f"sections: name at least one of {', '.join(known)}")
    return [s for s in known if s in names]


@dataclass
class Report:
    """What ``build_report`` wrote: the file, its page titles and the analysis behind it.

    For a rate study ``data`` is a ``ReportData``: the fits
    (``data.fits[(target, estimator)].fit`` is an ``nprates.analysis.RateFit``), comparisons
    (``data.pairs[target]``) and ``data.fit_table`` (``nprates.analysis.fit_all``'s table). For
    a capability study it is a ``CapabilityData``: ``data.summary`` is
    ``nprates.analysis.capability.summarize_capability``'s table.
    """

    path: Path
    pages: list = field(default_factory=list)
    data: ReportData = field(default=None, repr=False)

    def __str__(self) -> str:
        return str(self.path)

    def __fspath__(self) -> str:
        return str(self.path)


def build_report(results, path, study=None, title=None, *, method="loglog", level=0.95,
                 margin=0.1, n_boot=2000, seed=0, polylog_k=None, date=None,
                 loader=None, sections=None) -> Report:
    """Write a PDF report of a rate study to ``path``; returns a ``Report``.

    Parameters
    ----------
    results : DataFrame in the results schema (``nprates.analysis.schema``), or a results
        directory (``DIR/study.toml`` and ``DIR/cells/``, as ``nprates run`` writes),
        read with ``loader``.
    path : where to write the PDF (its folder is created).
    study : optional dict of the study file's contents (name, description, sizes,
        targets with their smoothness specs, estimators with their classes); for a
        directory it is read from ``DIR/study.toml`` when not given. Without it the
        title page shows what the table holds.
    title : the report's title (default "Convergence rates: STUDY", or "Capability
        study: STUDY").
    method, level, n_boot, seed, polylog_k : how exponents are fitted
        (``nprates.analysis.fit_rate``); the defaults reproduce ``nprates fit``.
    margin : equivalence margin of the comparisons (``nprates.analysis.compare_rates``).
    date : the date printed on the title page (default: today).
    loader : ``loader(directory) -> DataFrame`` to read a directory of another
        layout (default: ``nprates.analysis.read_results_dir``).
    sections : the sections to write, names from ``SECTIONS`` (a capability study:
        ``CAPABILITY_SECTIONS``), kept in page order; default all.

    Pages: title (study, targets, estimators, headline exponents), rate curves
    (log-log risk against n per target), exponents (forest plot against the theory),
    comparisons (every pair of estimators per target, SSM vs Transformer first),
    diagnostics (local slopes, training loss against the noise, failed cells, fit
    times) and notes (every theory check in words and every caution). The PDF is
    vector and deterministic: the same inputs and date give the same bytes.

    A capability study's table (rows with a non-empty ``task`` column) gets its own
    pages instead, as it has no rate to fit: a title page with the parameter counts
    per estimator, then per task token accuracy (and exact match) against the swept
    parameter, one line per estimator with ``level`` t intervals over replicates.
    Only ``level`` of the fitting options applies to it.

    The figures are drawn by ``plot_rates``, ``plot_exponents``, ``plot_comparison`` and
    ``plot_diagnostics``, which give each of them on its own.

    Raises ValueError (FileNotFoundError for a missing directory) with a clear
    message for an unknown section, an empty table, or a directory that is empty or holds no results
    (the default reader's errors; a custom ``loader`` raises its own).
    """
    out = Path(path)
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"the report path must end in .pdf, got {str(out)!r}")
    table, study, source = load_input(results, study, loader)
    # said once (a warning and the title page), not in every fit's notes
    partial = warn_if_incomplete(table)
    table.attrs["incomplete"] = ""
    capability_study = is_capability(table)
    chosen = chosen_sections(sections, CAPABILITY_SECTIONS if capability_study else SECTIONS)
    if capability_study:
        data = CapabilityData.prepare(table, study, source, level=level)
        default_title, subject = (f"{capability.TITLE}: {data.name}",
                                  "Capabilities on token-selection tasks (nprates)")
    else:
        data = ReportData.prepare(table, study, source, method=method, level=level,
                                  margin=margin, n_boot=n_boot, seed=seed, polylog_k=polylog_k,
                                  compare=any(s in chosen for s in ("comparisons", "notes")))
        default_title, subject = (f"Convergence rates: {data.name}",
                                  "Empirical convergence rates (nprates)")
    data.table.attrs["incomplete"] = partial
    date = date if date is not None else datetime.date.today().isoformat()
    out.parent.mkdir(parents=True, exist_ok=True)
    figs = []
    with report_style():
        if capability_study:
            if "title" in chosen:
                figs.append(capability.title_page(data, title=title, date=date))
            if "accuracy" in chosen:
                figs += [capability.task_page(data, t) for t in data.tasks]
        else:
            for name in chosen:
                figs += (title_page.page(data, title=title, date=date) if name == "title"
                         else _RATE_PAGES[name].pages(data))
        label = f"nprates report - {data.name}" + (f" - {date}" if date else "")
        meta = {"Title": title or default_title, "Subject": subject,
                "Creator": "nprates reports", "CreationDate": None, "ModDate": None}
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            with PdfPages(tmp, metadata=meta) as pdf:
                for i, fig in enumerate(figs, 1):
                    footer(fig, label, i, len(figs))
                    pdf.savefig(fig)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
    titles = [getattr(f, "_nprates_title", "") for f in figs]
    return Report(path=out, pages=titles, data=data)

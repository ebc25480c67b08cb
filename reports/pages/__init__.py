"""The pages of a report, in order: each module's ``pages(data)`` returns figures."""

from . import capability, comparison, diagnostics, forest, notes, rates, title

__all__ = ["title", "rates", "forest", "comparison", "diagnostics", "notes", "capability"]

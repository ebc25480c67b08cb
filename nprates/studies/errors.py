"""``StudyError``: the one exception an invalid study raises."""

from __future__ import annotations


class StudyError(ValueError):
    """An invalid study. ``str(err)`` is ``"SOURCE: FIELD: message"``."""

    def __init__(self, field: str | None, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join(parts + [self.message])

    def with_source(self, source: str | None) -> "StudyError":
        if source and not self.source:
            self.source = source
            self.args = (self._text(),)
        return self

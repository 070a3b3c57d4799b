"""What an import refuses: bad input from the operator, or a source that answered wrongly."""

from __future__ import annotations


class ImportInputError(ValueError):
    """The operator's request cannot be carried out as given (unknown pair, bad interval,
    no start time); the message names the option or value at fault."""


class ImportSourceError(RuntimeError):
    """A remote source failed or answered in a shape the import does not accept; the
    message names the source, the request and what was wrong. Nothing of the failed
    page or window was stored."""

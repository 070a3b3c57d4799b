"""The one error the platform's wiring raises."""

from __future__ import annotations


class PlatformError(RuntimeError):
    """The platform cannot start or be reached; the message says what to do."""

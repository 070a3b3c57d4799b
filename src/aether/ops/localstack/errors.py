"""Why the local stack or one of its servers did not start."""

from __future__ import annotations

from pathlib import Path


class ServerStartError(RuntimeError):
    """A server failed to start; the message names the server and its log file.

    ``server`` is "postgres", "nats" or "redis"; ``log_file`` is where that server writes; the
    message never contains credentials.
    """

    def __init__(self, server: str, log_file: Path, reason: str = "it did not start") -> None:
        self.server = server
        self.log_file = log_file
        self.reason = reason
        super().__init__(f"{server} failed to start: {reason} (log: {log_file})")

    def __reduce__(self) -> tuple[type[ServerStartError], tuple[str, Path, str]]:
        # Keeps the error picklable (the default would call __init__ with the message only).
        return (type(self), (self.server, self.log_file, self.reason))


class StackStateError(RuntimeError):
    """``stack.json`` exists but cannot be used; the message names the file and what to do."""

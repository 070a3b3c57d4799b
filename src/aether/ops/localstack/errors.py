"""Why an embedded server did not start."""

from __future__ import annotations

from pathlib import Path


class ServerStartError(RuntimeError):
    """A server failed to start; the message names the server and its log file."""

    def __init__(self, server: str, log_file: Path, reason: str) -> None:
        self.server = server
        self.log_file = log_file
        self.reason = reason
        super().__init__(f"{server} failed to start: {reason} (log: {log_file})")

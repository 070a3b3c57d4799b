"""The state file of the running API process (``<data dir>/api.json``): its pid and address."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True, slots=True)
class ApiProcess:
    """The process serving the API (the foreground ``aether up``) and where it listens."""

    pid: int
    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def api_state_file(data_dir: Path) -> Path:
    return data_dir / "api.json"


def write_api_state(data_dir: Path, api: ApiProcess) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = api_state_file(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": api.pid, "host": api.host, "port": api.port}))
    tmp.replace(path)


def read_api_state(data_dir: Path) -> ApiProcess | None:
    """The recorded API process, or None when there is none or it is no longer alive."""
    path = api_state_file(data_dir)
    try:
        raw = json.loads(path.read_text())
        api = ApiProcess(int(raw["pid"]), str(raw["host"]), int(raw["port"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    if not psutil.pid_exists(api.pid):
        return None
    return api


def clear_api_state(data_dir: Path) -> None:
    api_state_file(data_dir).unlink(missing_ok=True)

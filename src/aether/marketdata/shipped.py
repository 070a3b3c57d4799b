"""History slices shipped inside the package (Kraken OHLCVT CSV files).

They live in ``aether/marketdata/data/`` and are found through ``importlib.resources`` so the
lookup works from an installed package as well as from a source checkout. The instrument
snapshot is Kraken's, shipped with the adapter (``venues.kraken.instrument_snapshot``).
See docs/data.md.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_data", "shipped_files"]

_PACKAGE = "aether.marketdata"
_FOLDER = "data"


def shipped_files() -> list[str]:
    """Names of the shipped history files, sorted."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith((".", "_"))
    )


def shipped_data(name: str) -> Path:
    """Filesystem path of the shipped data file ``name`` (e.g. ``kraken_XBTUSD_60.csv``).

    Raises FileNotFoundError listing the available files for an unknown name, and also when
    the package is installed in a form without real files (a zip), which Aether does not use.
    """
    available = shipped_files()
    if name not in available:
        raise FileNotFoundError(
            f"no shipped market data file {name!r}; available: {', '.join(available) or 'none'}"
            " (check that package-data includes marketdata/data/*.csv)"
        )
    resource = resources.files(_PACKAGE).joinpath(_FOLDER).joinpath(name)
    # Callers hand the path to csv/json readers; a zipped install has no such path to give.
    if not isinstance(resource, Path):
        raise FileNotFoundError(
            f"shipped file {name!r} is not on the filesystem ({resource!r}); "
            "install aether unzipped"
        )
    return resource

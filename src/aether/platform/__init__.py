"""The composition root of the platform's processes: what ``aether up``, ``down`` and
``status`` run.

Holds the wiring of a whole process: which servers to use (external URLs or the local stack),
migrations before start, the API server process and its state file, the sidecars served
beside it, a detached start and stop, and the signals that end a foreground run. Like the
CLI, and unlike every layer below it, it builds components from the whole ``Settings``.

May import every layer below it (``api``, ``marketdata``, ``backtest``, the adapters,
``settings``, the core); never ``aether.cli`` or ``aether.emulator`` (the CLI hands it the
emulator as a sidecar). Only the CLI, tests and benchmarks import it.
"""

"""The engine: one event loop for backtest, paper and live, and the account it trades.

Holds the loop (``loop``: ``Engine``, the strategy context and the order path) and the parts
it composes: the orders it keeps (``order_ledger``), the exits it watches (``exit_tracker``),
the equity curve (``equity_recorder``), the portfolio (``portfolio``), entry sizing
(``entry_size``), streaming indicators (``indicators``), the strategy API (``strategy``),
an account's trading configuration (``config``) and refused orders (``refusals``).

Pure core: it may import the standard library's pure modules, ``aether.domain`` and
``aether.risk``; no I/O, no clock (time is the timestamp of the event being handled).
"""

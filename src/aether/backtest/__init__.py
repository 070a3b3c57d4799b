"""The backtest runner: history -> the engine with the SimBroker -> results, trades CSV and
the HTML report.

May import the core (``aether.domain``, ``aether.engine``, ``aether.risk``,
``aether.strategies``) and the SimBroker (``aether.venues.sim``); it reads no database and
no settings: the CLI hands it bars, a strategy and a trading configuration.
"""

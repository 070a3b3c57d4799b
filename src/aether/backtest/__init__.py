"""The backtest runner: history -> engine with the SimBroker -> results, trades CSV, HTML report."""

"""Event loop shared by backtest, paper and live; portfolio, PnL and fees. Pure core."""

"""Risk: pre-trade checks and the limits they enforce, exits (stop-loss, take-profit,
trailing stop), the daily drawdown guard, sizing and correlated exposure.

Pure core: it may import the standard library's pure modules and ``aether.domain`` only;
no I/O, no clock (times are arguments).
"""

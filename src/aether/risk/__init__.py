"""Pre-trade checks, exits, drawdown guard, sizing and exposure. Pure core."""

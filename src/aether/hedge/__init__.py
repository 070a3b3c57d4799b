"""USD hedge controller. Pure core."""

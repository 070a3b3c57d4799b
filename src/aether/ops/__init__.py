"""Operations: health and readiness, metrics, logging, local stack, the platform runtime."""

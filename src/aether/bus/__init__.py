"""NATS JetStream: the platform's streams and subject names."""

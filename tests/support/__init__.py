"""Local stand-ins for third-party services, served over real HTTP for tests."""

"""Fake Microsoft endpoints (token endpoint, Graph) as real HTTPS servers on 127.0.0.1, for tests."""

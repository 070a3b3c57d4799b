"""The hash-chained, append-only audit log: its canonical encoding and keyed hash, the HMAC
key, appends and the verifier, and the signed checkpoints that anchor it outside the database.

An adapter: it may import ``aether.storage`` (its table), ``aether.settings`` and the core;
never the services, the API or the composition root.
"""

"""Authentication and authorisation: API keys (format, Argon2id hashes, issue, revoke),
users, roles and grants, the principal a request acts as; and the credential vault (each
account's Kraken key pair under envelope encryption, its key-encryption keys, their rotation,
and the check of a key pair against the venue).

An adapter: it may import ``aether.storage``, ``aether.audit``, ``aether.ops``,
``aether.settings``, the core, and ``aether.venues.kraken`` (the vault's credential type and
the venue check); never the services, the API or the composition root.
"""

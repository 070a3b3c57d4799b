"""Authentication and authorisation: API keys (format, Argon2id hashes, issue, revoke),
users, roles and grants, and the principal a request acts as.

An adapter: it may import ``aether.storage``, ``aether.audit``, ``aether.settings`` and the
core; never the services, the API or the composition root.
"""

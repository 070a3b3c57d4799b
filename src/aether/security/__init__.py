"""Authentication and authorisation: API keys, users, roles and grants."""

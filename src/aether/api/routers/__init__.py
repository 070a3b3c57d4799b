"""One router per area of ``/api/v1`` (accounts, keys, audit, instruments, subscriptions,
market history) and the public health routes; each is a ``deps.KeyCheckedRoute`` router
unless it is on the public allowlist. Same imports as :mod:`aether.api`.
"""

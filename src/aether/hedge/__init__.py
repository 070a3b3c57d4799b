"""The USD hedge controller (not built yet: an account's ``hedge`` configuration is refused
as "not available yet" until it is).

Pure core: it may import the standard library's pure modules and ``aether.domain`` only.
"""

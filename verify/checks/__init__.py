"""Numeric checks, one module per catalog topic (the same modules as in :mod:`theory`).

Modules register their checks with :func:`verify.registry.check` when imported; the
registry imports them on first use.
"""

"""The Alembic migrations, a package so that they are installed with the wheel.

`bot.migrate` runs them from wherever this package is (a checkout or site-packages);
`alembic -c pyproject.toml ...` in a checkout uses this folder too.
"""

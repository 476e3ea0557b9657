"""The soak: Picus behind Nginx under load while PostgreSQL, workers and Nginx are disturbed.

It treats Picus as a black box (HTTP only, plus the PIDs and pg_ctl an operator has) and
checks the promise to users: what Picus acknowledged is never lost, and it comes back by
itself. `python -m soak --help`; `make soak`; a short run is tests/soak/.
"""

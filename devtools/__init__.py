"""Development tooling shared by tests/, bench/ and soak/: never imported by picus/.

paths (the repository root), servers (`picus serve` on a loopback port), processes
(process trees through psutil, stop by PID), postgres (a throwaway PostgreSQL cluster),
nginx and compose (the Nginx template rendered and run), pgbouncer, json_values.
"""

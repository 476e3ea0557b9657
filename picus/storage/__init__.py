"""Storage: SQLAlchemy Core tables and statements, run on PostgreSQL (asyncpg) or SQLite.

Knows SQL, nothing of HTTP. The errors it raises live in picus.errors.
"""

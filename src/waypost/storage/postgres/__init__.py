"""PostgreSQL storage: store.py (the Storage and its Tx), queries.sql, migrations/,
migrate.py (schema changes under an advisory lock), listener.py (notices across processes),
driver.py (psycopg settings shared by all of them)."""

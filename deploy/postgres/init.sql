-- Runs once, when compose creates the postgres-data volume. The manual's slow-query checks read
-- pg_stat_statements (compose preloads the library with shared_preload_libraries).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

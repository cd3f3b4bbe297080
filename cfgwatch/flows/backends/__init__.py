"""Flow stores behind one interface (`base.FlowBackend`): embedded DuckDB, nfdump, ClickHouse."""

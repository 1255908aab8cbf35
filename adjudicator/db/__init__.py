"""The database: engines and transactions, configuration, the ``Store`` handle, migrations,
pagination, the readiness probe, and the errors every capability raises."""

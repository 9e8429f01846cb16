"""Running an instance for years: backup and restore, readiness."""

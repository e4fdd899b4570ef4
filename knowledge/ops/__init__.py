"""Operating tacit: counts, doctor, backups, health and metrics, logging."""

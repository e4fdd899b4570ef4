"""Operating tacit: counts over the store (and, as they come, doctor, backups, health)."""

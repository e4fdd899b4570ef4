"""Bot features, one package each."""

"""Base layer: problems and exit-worthy errors, YAML reading, working and git trees, text tables."""

"""custlens.datasets."""

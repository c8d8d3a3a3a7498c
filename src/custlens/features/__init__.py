"""custlens.features."""

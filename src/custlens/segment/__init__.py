"""custlens.segment."""

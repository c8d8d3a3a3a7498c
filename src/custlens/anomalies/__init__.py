"""custlens.anomalies."""

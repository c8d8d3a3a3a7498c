"""Synthetic order logs with planted personas, anomalies, dirt and ground truth."""

from custlens.datasets.catalogue import catalogue
from custlens.datasets.personas import ANOMALY_KINDS, DEFAULT_PERSONAS, DirtRates, PersonaSpec
from custlens.datasets.synthetic import ORDER_COLUMNS, TRUTH_COLUMNS, SyntheticData, synthetic
from custlens.datasets.writer import write_synthetic

__all__ = [
    "ANOMALY_KINDS",
    "DEFAULT_PERSONAS",
    "ORDER_COLUMNS",
    "TRUTH_COLUMNS",
    "DirtRates",
    "PersonaSpec",
    "SyntheticData",
    "catalogue",
    "synthetic",
    "write_synthetic",
]

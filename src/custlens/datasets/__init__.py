"""Synthetic order logs with planted personas, anomalies, dirt and ground truth."""

from custlens.datasets.catalogue import catalogue
from custlens.datasets.customer_profiles import (
    PROFILE_PERSONAS,
    CustomerProfileData,
    customer_profile_table,
)
from custlens.datasets.personas import ANOMALY_KINDS, DEFAULT_PERSONAS, DirtRates, PersonaSpec
from custlens.datasets.synthetic import ORDER_COLUMNS, TRUTH_COLUMNS, SyntheticData, synthetic
from custlens.datasets.writer import write_synthetic

__all__ = [
    "ANOMALY_KINDS",
    "DEFAULT_PERSONAS",
    "ORDER_COLUMNS",
    "PROFILE_PERSONAS",
    "CustomerProfileData",
    "TRUTH_COLUMNS",
    "DirtRates",
    "PersonaSpec",
    "SyntheticData",
    "catalogue",
    "customer_profile_table",
    "synthetic",
    "write_synthetic",
]

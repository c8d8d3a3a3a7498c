"""The segmentation audit: who does not fit their segment on a metric, and what explains it.

``audit_segmentation(df, segment=..., metric=...)`` returns an :class:`AuditResult`;
``custlens.report.audit_markdown.write_audit`` renders it as CSV tables, PNG figures and
``audit.md``. Modules: ``prepare`` (input checks, snapshots), ``flags`` (anomaly flags and the
per-segment table), ``behaviour_features`` (recognised and derived behaviour columns),
``group_tests`` (Mann-Whitney U, chi-square), ``anomaly_clusters`` (K-Means personas of the
anomalies), ``anomaly_trees`` (the fair decision-tree test), ``conclusion`` (the verdict) and
``segmentation`` (the entry point).
"""

from custlens.audit.segmentation import AuditResult, audit_segmentation

__all__ = ["AuditResult", "audit_segmentation"]

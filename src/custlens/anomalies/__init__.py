"""Unusual customers (an isolation forest with reasons) and unusual orders (extreme values,
order/cancellation pairs)."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "CustomerAnomalyDetector": "custlens.anomalies.isolation",
    "ExtremeOrders": "custlens.anomalies.orders",
    "CancellationPairs": "custlens.anomalies.orders",
    "extreme_orders": "custlens.anomalies.orders",
    "cancellation_pairs": "custlens.anomalies.orders",
    "customer_order_signals": "custlens.anomalies.orders",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

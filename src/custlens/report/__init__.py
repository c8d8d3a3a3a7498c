"""What people read: figures of a run and the audit's document."""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "write_figures": "custlens.report.figures",
    "write_audit": "custlens.report.audit_markdown",
    "render_audit_markdown": "custlens.report.audit_markdown",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

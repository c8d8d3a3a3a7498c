"""The web app (``custlens app``, extra ``custlens[app]``): upload an order log, map its
columns, run, explore and download, in a browser.

The app is a Streamlit script (:mod:`custlens.app.main`) over small modules: the start page
and column mapping (``mapping``), the choices as settings (``choices``), sources (``sources``),
the shared run cache (``cache``), the error panel (``panel``), downloads (``downloads``) and
one module per page under ``pages``. It does no engine work of its own: it calls
``custlens.run``, ``custlens.open_results``, ``custlens.io`` and ``custlens.exports``.

Importing ``custlens`` or this package never imports Streamlit; only the script does.
"""

from custlens._lazy import lazy_exports

_EXPORTS = {
    "RunCache": "custlens.app.cache",
    "run_key": "custlens.app.cache",
    "detect": "custlens.app.choices",
    "build_settings": "custlens.app.choices",
    "settings_toml": "custlens.app.choices",
    "streamlit_command": "custlens.app.launch",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

"""Settings of the web app (``custlens app``): ``[app]`` in custlens.toml."""

from __future__ import annotations

from pydantic import Field

from custlens.config.base import _Strict


class AppConfig(_Strict):
    """The web app's limits. Files larger than ``max_upload_mb`` are read from their path."""

    max_upload_mb: int = Field(default=200, ge=1, le=100_000)

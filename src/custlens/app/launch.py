"""Start the app: Streamlit on a free local port, headless, usage statistics off.

``custlens app [PATH] [--host H] [--port P] [--config custlens.toml]``: PATH is a results folder
(opened directly) or a data file (read where it lies, without uploading). The address is printed
and nothing else is opened. The process becomes the Streamlit server (``exec``), so stopping it
stops the server.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
from pathlib import Path

# Read by the Streamlit script (custlens.app.state); no Streamlit import here, so a missing
# Streamlit gives a clear message instead of a traceback.
ENV_PATH = "CUSTLENS_APP_PATH"  # a results folder to open, or a data file to read where it lies
ENV_CONFIG = "CUSTLENS_APP_CONFIG"  # a custlens.toml

SCRIPT = Path(__file__).with_name("main.py")


def free_port(host: str) -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def streamlit_command(host: str, port: int, max_upload_mb: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.maxUploadSize",
        str(max_upload_mb),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def _fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="custlens app", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", help="a results folder, or a data file to read")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--config", help="custlens.toml (default: ./custlens.toml if present)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("streamlit") is None:
        _fail("the app needs Streamlit.\nFix: pip install 'custlens[app]'.")
    from custlens.config import load_settings
    from custlens.errors import CustlensError

    try:
        settings = load_settings(args.config)
    except CustlensError as exc:
        _fail(str(exc))
    env = dict(os.environ)
    if args.path:
        path = Path(args.path).expanduser().resolve()
        if not path.exists():
            _fail(
                f"{path} does not exist.\nFix: pass a results folder or a data file "
                "(or nothing, to upload a file in the browser)."
            )
        env[ENV_PATH] = str(path)
    if args.config:
        env[ENV_CONFIG] = str(Path(args.config).resolve())
    port = args.port or free_port(args.host)
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    print(f"custlens app: http://{host_in_url}:{port}", flush=True)
    command = streamlit_command(args.host, port, settings.app.max_upload_mb)
    os.execve(sys.executable, command, env)

"""prefnb.server_extension: kernel websockets without Nagle's algorithm, in a real server.

The check reads the socket option itself: the test opens a kernel websocket to the real
JupyterLab of the ``jupyterlab`` fixture, takes a copy of the server's end of that TCP
connection (``pidfd_getfd``, Linux 5.6+), and asks it for TCP_NODELAY. No timing involved.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import platform
import re
import socket
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.websocket import websocket_connect

from prefnb.server_extension import without_nagle

_SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _server_socket_nodelay(pid: int, peer_port: int) -> int:
    """TCP_NODELAY of the socket in process ``pid`` whose peer is 127.0.0.1:``peer_port``."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                err = ctypes.get_errno()
                pytest.skip(f"pidfd_getfd is not allowed here ({os.strerror(err)})")
            with socket.socket(fileno=fd) as sock:
                if sock.family != socket.AF_INET or sock.type != socket.SOCK_STREAM:
                    continue
                try:
                    peer = sock.getpeername()
                except OSError:
                    continue
                if peer[1] == peer_port:
                    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        os.close(pidfd)
    raise AssertionError(f"no socket of the server is connected to port {peer_port}")


def _api(lab: SimpleNamespace, path: str, method: str) -> object:
    req = urllib.request.Request(f"{lab.url}{path}?token={lab.token}", method=method, data=b"")
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


@pytest.mark.skipif(platform.system() != "Linux", reason="reads the socket through /proc")
def test_kernel_websocket_sends_without_nagle(jupyterlab: SimpleNamespace) -> None:
    kernel = _api(jupyterlab, "/api/kernels", "POST")
    assert isinstance(kernel, dict)
    ws_url = jupyterlab.url.replace("http", "ws", 1)
    url = f"{ws_url}/api/kernels/{kernel['id']}/channels?token={jupyterlab.token}&session_id=t"

    async def check() -> int:
        conn = await websocket_connect(url)
        try:
            # The server tunes the socket in ``open``: once a message has come, it has run.
            await asyncio.wait_for(conn.read_message(), timeout=60)
            local_port = conn.protocol.stream.socket.getsockname()[1]  # type: ignore[union-attr]
            return _server_socket_nodelay(jupyterlab.pid, local_port)
        finally:
            conn.close()

    try:
        # In a thread of its own: another test may have left this thread's event loop running.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, check()).result(timeout=120) == 1
    finally:
        _api(jupyterlab, f"/api/kernels/{kernel['id']}", "DELETE")


def test_installed_config_enables_the_extension() -> None:
    # README's install puts etc/jupyter/jupyter_server_config.d/prefnb.json in the venv.
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    listing = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # the listing is coloured
    assert "prefnb.server_extension" in listing
    line = next(x for x in listing.splitlines() if "prefnb.server_extension" in x)
    assert "enabled" in line, listing
    assert "prefnb.server_extension  OK" in listing


def test_wraps_any_connection_class_once() -> None:
    wrapped = without_nagle(ZMQChannelsWebsocketConnection)
    assert issubclass(wrapped, ZMQChannelsWebsocketConnection)
    assert wrapped is not ZMQChannelsWebsocketConnection
    assert without_nagle(wrapped) is wrapped
    # Sessions stay in the base class's registry: the server's shutdown closes them there.
    assert wrapped._open_sessions is ZMQChannelsWebsocketConnection._open_sessions

    class Custom(BaseKernelWebsocketConnection):
        pass

    custom = without_nagle(Custom)
    assert issubclass(custom, Custom)
    assert custom.__name__ == "Custom"

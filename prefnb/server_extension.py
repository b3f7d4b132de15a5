"""A Jupyter server extension: kernel websockets send small messages at once.

jupyter_server's kernel websocket is a Tornado ``WebSocketHandler``, and Tornado leaves
Nagle's algorithm on unless a handler calls ``set_nodelay(True)``. A kernel answers a widget
message with a few small frames in a row (status busy, the reply, status idle): with Nagle
on, every frame after the first waits in the server until the browser acknowledges the
first, and browsers delay that acknowledgement by up to 40 ms on Linux. The Labeler's
"saved" reply then reached the page ~40 ms after the kernel sent it (measured: kernel send →
page p50 41 ms with Nagle, 7 ms without), and it landed just when a fast annotator's next
key did, so that key's frame came one vsync late. Tornado's own documentation recommends
``set_nodelay(True)`` for this traffic; the cost is a few more small packets.

The extension wraps the server's kernel websocket connection class (the default ZMQ one,
a gateway's, or one configured by the user) in a subclass whose only change is that option,
set when the websocket connects. Installing prefnb enables it in the server of the same
environment (``etc/jupyter/jupyter_server_config.d/prefnb.json``); turn it off with
``jupyter server extension disable prefnb.server_extension``.

Example:
    >>> from jupyter_server.services.kernels.connection.channels import (
    ...     ZMQChannelsWebsocketConnection,
    ... )
    >>> wrapped = without_nagle(ZMQChannelsWebsocketConnection)
    >>> issubclass(wrapped, ZMQChannelsWebsocketConnection), without_nagle(wrapped) is wrapped
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection

#: The settings key under which jupyter_server keeps the kernel websocket connection class.
SETTING = "kernel_websocket_connection_class"


def without_nagle(
    cls: type[BaseKernelWebsocketConnection],
) -> type[BaseKernelWebsocketConnection]:
    """``cls`` with TCP_NODELAY set on its websocket when it connects (``cls`` if it has it)."""
    if getattr(cls, "_prefnb_nodelay", False):
        return cls
    # jupyter_server leaves ``connect`` untyped (it returns a Future, or None when it failed).
    base_connect = cast("Callable[[Any], Any]", cls.connect)

    def connect(self: Any) -> Any:
        # The websocket is open here (the handler's ``open`` calls ``connect``), so its
        # stream exists; a stream already closed has nothing to tune.
        handler = self.websocket_handler
        if getattr(handler, "ws_connection", None) is not None:
            handler.set_nodelay(True)
        return base_connect(self)

    return type(
        cls.__name__,
        (cls,),
        {
            "connect": connect,
            "_prefnb_nodelay": True,
            "__module__": __name__,
            "__qualname__": f"without_nagle({cls.__qualname__})",
            "__doc__": f"{cls.__qualname__}, sending small websocket messages at once.",
        },
    )


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    current = settings.get(SETTING)
    if not isinstance(current, type) or not issubclass(current, BaseKernelWebsocketConnection):
        serverapp.log.info("prefnb: no kernel websocket connection class to tune; left alone")
        return
    settings[SETTING] = without_nagle(current)
    serverapp.log.info(
        "prefnb: kernel websockets send small messages at once (TCP_NODELAY on %s)",
        current.__qualname__,
    )

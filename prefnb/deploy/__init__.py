"""Deploy and try fine-tuned models: :func:`deploy`, :class:`Endpoint`, :func:`chat`,
:func:`endpoints`."""

from __future__ import annotations

from prefnb.deploy.chat import chat
from prefnb.deploy.endpoint import DeployError, Endpoint, deploy
from prefnb.deploy.listing import endpoints

__all__ = ["DeployError", "Endpoint", "chat", "deploy", "endpoints"]

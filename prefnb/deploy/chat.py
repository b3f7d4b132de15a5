"""``prefnb.chat``: ask a model (a name, a Job or an Endpoint) and stream its answer into the cell.

The answer is untrusted model output: it is shown as plain text (never rendered as HTML or
markdown), updated in place as chunks arrive inside a kernel, and written to stdout elsewhere.

Example:
    >>> from prefnb.testing import LocalTogether
    >>> with LocalTogether() as api:
    ...     text = chat("openai/gpt-oss-20b", "Explain DPO.", client=api.client(), display=False)
    >>> text.startswith("About")
    True
"""

from __future__ import annotations

import sys
from typing import Any

from prefnb.generation.requests import model_name
from prefnb.launch.credentials import resolve_client
from prefnb.launch.progress import in_kernel
from prefnb.pairs import normalize_prompt

__all__ = ["chat"]


def chat(
    target: Any,
    message: Any,
    *,
    system: str | None = None,
    temperature: float = 0.7,
    max_tokens: int = 512,
    client: Any = None,
    stream: bool = True,
    display: bool = True,
) -> str:
    """Send ``message`` (a string or a message list) to ``target`` and return the answer text.

    ``target`` is a model name, a fine-tuning Job (its output model) or an
    :class:`~prefnb.deploy.endpoint.Endpoint`. With ``stream`` the answer appears in the cell
    as it is generated.
    """
    name = (
        target.name if hasattr(target, "kind") and hasattr(target, "name") else model_name(target)
    )
    client = resolve_client(client if client is not None else getattr(target, "client", None))
    messages = [dict(m) for m in normalize_prompt(message)]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    params = {"model": name, "messages": messages, "temperature": temperature,
              "max_tokens": max_tokens}  # fmt: skip
    if not stream:
        resp = client.chat.completions.create(**params)
        text = str(resp.choices[0].message.content or "")
        if display:
            _show(text, None)
        return text
    parts: list[str] = []
    handle = _show("", None) if display and in_kernel() else None
    for chunk in client.chat.completions.create(**params, stream=True):
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if not piece:
            continue
        parts.append(piece)
        if display:
            if handle is not None:
                _show("".join(parts), handle)
            else:
                sys.stdout.write(piece)
                sys.stdout.flush()
    if display and handle is None:
        sys.stdout.write("\n")
    return "".join(parts)


def _show(text: str, handle: Any) -> Any:
    """Plain-text display (model output never becomes HTML); update ``handle`` if given."""
    if not in_kernel():
        if handle is None and text:
            print(text)
        return None
    from IPython.display import display

    if handle is None:
        return display({"text/plain": text}, raw=True, display_id=True)  # type: ignore[no-untyped-call]
    handle.update({"text/plain": text}, raw=True)
    return handle

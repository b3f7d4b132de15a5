"""LocalTogether's route table: the part of Together's REST API that prefnb and the SDK use.

Each handler takes the server :class:`~prefnb.testing.state.State` and a
:class:`~prefnb.testing.wire.Request` and returns a :class:`~prefnb.testing.wire.Response`;
:data:`ROUTES` maps method + path to a handler and to the spec operation its bodies are checked
against.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prefnb.testing.account import delete_fine_tune, get_download, get_whoami
from prefnb.testing.chat import post_chat_completions
from prefnb.testing.evaluations import (
    get_evaluation,
    get_evaluation_status,
    get_evaluations,
    post_evaluation,
)
from prefnb.testing.files import (
    delete_file,
    get_file,
    get_file_content,
    get_files,
    post_files,
    post_preprocess,
    put_upload,
)
from prefnb.testing.fine_tunes import (
    get_checkpoints,
    get_events,
    get_fine_tune,
    get_fine_tunes,
    get_limits,
    get_metrics,
    post_cancel,
    post_estimate_price,
    post_fine_tunes,
)
from prefnb.testing.sim_batches import get_batch, get_batches, post_batch_cancel, post_batches
from prefnb.testing.sim_endpoints import (
    delete_endpoint,
    get_endpoint,
    get_endpoints,
    get_hardware,
    patch_endpoint,
    post_endpoints,
)
from prefnb.testing.wire import Response

Handler = Callable[..., Response]

#: (method, path regex, spec operation or None, handler, needs API key)
ROUTES: list[tuple[str, re.Pattern[str], str | None, Handler, bool]] = [
    (m, re.compile(f"^{p}$"), op, h, auth)
    for m, p, op, h, auth in (
        ("POST", r"/v1/files", None, post_files, True),
        ("GET", r"/v1/files", "GET /v1/files", get_files, True),
        ("PUT", r"/_sim_upload/(?P<file_id>[^/]+)", None, put_upload, False),
        (
            "POST",
            r"/v1/files/(?P<file_id>[^/]+)/preprocess",
            "GET /v1/files/{id}",
            post_preprocess,
            True,
        ),
        ("GET", r"/v1/files/(?P<file_id>[^/]+)/content", None, get_file_content, True),
        ("GET", r"/v1/files/(?P<file_id>[^/]+)", "GET /v1/files/{id}", get_file, True),
        ("DELETE", r"/v1/files/(?P<file_id>[^/]+)", "DELETE /v1/files/{id}", delete_file, True),
        (
            "GET",
            r"/v1/fine-tunes/models/limits",
            "GET /v1/fine-tunes/models/limits",
            get_limits,
            True,
        ),
        (
            "POST",
            r"/v1/fine-tunes/estimate-price",
            "POST /v1/fine-tunes/estimate-price",
            post_estimate_price,
            True,
        ),
        ("POST", r"/v1/fine-tunes", "POST /v1/fine-tunes", post_fine_tunes, True),
        ("GET", r"/v1/fine-tunes", "GET /v1/fine-tunes", get_fine_tunes, True),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/events",
            "GET /v1/fine-tunes/{id}/events",
            get_events,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/checkpoints",
            "GET /v1/fine-tunes/{id}/checkpoints",
            get_checkpoints,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/metrics",
            "GET /v1/fine-tunes/{id}/metrics",
            get_metrics,
            True,
        ),
        (
            "POST",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/cancel",
            "POST /v1/fine-tunes/{id}/cancel",
            post_cancel,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)",
            "GET /v1/fine-tunes/{id}",
            get_fine_tune,
            True,
        ),
        ("DELETE", r"/v1/fine-tunes/(?P<job_id>[^/]+)", None, delete_fine_tune, True),
        ("GET", r"/v1/finetune/download", None, get_download, True),
        ("GET", r"/v3/whoami", None, get_whoami, True),
        ("POST", r"/v1/chat/completions", None, post_chat_completions, True),
        ("POST", r"/v1/evaluation", None, post_evaluation, True),
        ("GET", r"/v1/evaluation", None, get_evaluations, True),
        ("GET", r"/v1/evaluation/(?P<eval_id>[^/]+)/status", None, get_evaluation_status, True),
        ("GET", r"/v1/evaluation/(?P<eval_id>[^/]+)", None, get_evaluation, True),
        ("POST", r"/v1/batches", None, post_batches, True),
        ("GET", r"/v1/batches", None, get_batches, True),
        ("GET", r"/v1/batches/(?P<batch_id>[^/]+)", None, get_batch, True),
        ("POST", r"/v1/batches/(?P<batch_id>[^/]+)/cancel", None, post_batch_cancel, True),
        ("POST", r"/v1/endpoints", None, post_endpoints, True),
        ("GET", r"/v1/endpoints", None, get_endpoints, True),
        ("GET", r"/v1/endpoints/(?P<endpoint_id>[^/]+)", None, get_endpoint, True),
        ("PATCH", r"/v1/endpoints/(?P<endpoint_id>[^/]+)", None, patch_endpoint, True),
        ("DELETE", r"/v1/endpoints/(?P<endpoint_id>[^/]+)", None, delete_endpoint, True),
        ("GET", r"/v1/hardware", None, get_hardware, True),
    )
]


def route(method: str, path: str) -> tuple[str | None, Handler, bool, dict[str, str]] | None:
    for m, pattern, op, handler, auth in ROUTES:
        if m == method and (match := pattern.match(path)):
            return op, handler, auth, match.groupdict()
    return None

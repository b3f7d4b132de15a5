"""The LocalTogether HTTP server: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from prefnb.testing.faults import Fault, Faults
from prefnb.testing.files import form_fields
from prefnb.testing.routes import route
from prefnb.testing.sim_judge import SimJudge
from prefnb.testing.simulator import Clock
from prefnb.testing.spec import Spec
from prefnb.testing.state import State
from prefnb.testing.wire import ApiError, Request, Response, error_response

#: The API key :meth:`LocalTogether.client` uses by default; any non-rejected key works.
SIMULATED_KEY = "sim-local-key"
#: A key the server answers with 401, as Together does for a revoked key.
REJECTED_KEY = "sim-rejected-key"


@dataclass(frozen=True)
class RecordedRequest:
    """A request as it reached the server (headers are never kept: they hold the API key).

    Unpacks as ``method, path, body``; ``body`` is the parsed JSON (or form fields for the
    multipart ``POST /v1/files``, ``None`` for no body).
    """

    method: str
    path: str
    body: Any
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.path, self.body))


@dataclass(frozen=True)
class SpecViolation:
    operation: str
    reasons: tuple[str, ...]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: LocalTogether


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "LocalTogether/simulated"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; with Nagle's algorithm the body then waits
        # for the client's delayed ACK (~40 ms a request), which no real API adds.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo read api.requests instead

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        parts = urlsplit(self.path)
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        req = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}:{port}",
        )
        resp = self.server.app._dispatch(req)
        if resp is None:  # a dropped connection: no status line, no bytes
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = resp.encode()
        self.send_response(resp.status)
        if payload or resp.status not in (204, 302):
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class LocalTogether:
    """A local, simulated Together API that the real ``together`` client talks to over HTTP.

    Everything it returns is simulated: ids start ``file-sim-``/``ft-sim-`` and output model
    names contain ``simulated``. Jobs run on a clock ``speed`` times faster than real time (a
    small job takes ~30 s at ``speed=1``). ``strict_spec=True`` turns any request or response
    that breaks Together's OpenAPI spec into a 500 naming the reason.

    Example:
        >>> with LocalTogether(speed=60) as api:  # doctest: +SKIP
        ...     client = api.client()
        ...     f = client.files.upload("train.jsonl", purpose="fine-tune", check=False)
        ...     job = client.fine_tuning.create(training_file=f.id, model=api.models[0],
        ...                                     training_method="dpo", dpo_beta=0.1)
        ...     api.requests[-1].body["training_method"]["dpo_beta"]
        0.1
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        port: int = 0,
        host: str = "127.0.0.1",
        strict_spec: bool = False,
        balance: float = 100.0,
        rejected_keys: tuple[str, ...] = (REJECTED_KEY,),
        judge: Mapping[str, Any] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.clock = Clock(speed)
        self.state = State(self.clock, balance=balance)
        self.state.judge = SimJudge.from_options(judge)
        #: Real seconds each chat completion waits before it is answered (model latency).
        self.latency = float(latency)
        self.strict_spec = strict_spec
        self.rejected_keys = frozenset(rejected_keys)
        self.faults = Faults()
        self.spec = Spec.load()
        self.requests: list[RecordedRequest] = []
        self.spec_violations: list[SpecViolation] = []
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalTogether:
        """Bind (a free port unless ``port`` was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _Handler)
        server.app = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"LocalTogether:{server.server_address[1]}",
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalTogether:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalTogether is not running: call start() or use `with`")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``together.Together(base_url=...)``: no ``/v1``, the SDK adds it."""
        return f"http://{self._host}:{self.port}"

    @property
    def models(self) -> list[str]:
        """The model names whose limits LocalTogether knows."""
        from prefnb.testing.limits import MODELS

        return list(MODELS)

    def client(self, api_key: str = SIMULATED_KEY, **kwargs: Any) -> Any:
        """A real ``together.Together`` client pointed at this server."""
        import together

        return together.Together(api_key=api_key, base_url=self.base_url, **kwargs)

    # --- knobs for tests ---------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self.clock.speed

    @property
    def balance(self) -> float:
        return self.state.balance

    @balance.setter
    def balance(self, value: float) -> None:
        """Credit the account has; estimates above it come back ``allowed_to_proceed: false``."""
        self.state.balance = value

    def advance(self, seconds: float) -> None:
        """Jump the simulated clock forward by ``seconds`` (simulated seconds)."""
        self.clock.advance(seconds)

    def hold(self) -> None:
        """Stop the simulated clock: every job keeps its status until :meth:`release`.

        Tests hold a job in flight (say, to cancel it) without racing a fast ``speed``; file
        processing also waits on the clock, so hold after the upload, not before it.
        """
        self.clock.hold()

    def release(self) -> None:
        """Start the simulated clock again where :meth:`hold` stopped it."""
        self.clock.release()

    def inject(
        self,
        pattern: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        drop: bool = False,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> Fault:
        """Make requests matching ``pattern`` fail (see :mod:`prefnb.testing.faults`).

        A 429 carries ``Retry-After`` (``retry_after``, default 0.1 s so that SDK retries stay
        quick in tests). The fault applies before the route runs: nothing is created.
        """
        if status == 429 and retry_after is None:
            retry_after = 0.1
        return self.faults.add(
            pattern, status=status, times=times, delay=delay, drop=drop,
            retry_after=retry_after, message=message,
        )  # fmt: skip

    @property
    def judge(self) -> SimJudge:
        """The simulated judge: its parameters, :meth:`SimJudge.teach` and its ``log``."""
        return self.state.judge

    @property
    def spent_usd(self) -> float:
        """Simulated inference bill so far (chat completions and completed evaluations)."""
        return sum(c.cost_usd for c in list(self.state.charges))

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests_to(self, pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose ``"METHOD /path"`` matches the glob ``pattern``."""
        return [
            r for r in list(self.requests) if fnmatch.fnmatchcase(f"{r.method} {r.path}", pattern)
        ]

    # --- dispatch ----------------------------------------------------------------------------

    def _record(self, req: Request, status: int) -> None:
        body: Any
        try:
            body = (
                req.json()
                if req.headers.get("content-type", "").startswith("application/json")
                else None
            )
        except ValueError:
            body = req.body.decode(errors="replace")
        if req.method == "POST" and req.path == "/v1/files":
            body = form_fields(req)
        if req.method == "PUT":
            body = None  # file bytes: read them back with GET /v1/files/{id}/content
        with self._log_lock:
            self.requests.append(
                RecordedRequest(req.method, req.path, body, dict(req.query), status)
            )

    def _dispatch(self, req: Request) -> Response | None:
        fault = self.faults.take(req.method, req.path)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.drop:
                self._record(req, 0)
                return None
            if fault.status is not None:
                resp = error_response(
                    fault.status,
                    fault.message or f"Simulated fault: HTTP {fault.status}",
                    kind="rate_limit_exceeded" if fault.status == 429 else "server_error",
                )
                if fault.retry_after is not None:
                    resp.headers["Retry-After"] = f"{fault.retry_after:g}"
                self._record(req, resp.status)
                return resp
        if self.latency > 0 and req.method == "POST" and req.path == "/v1/chat/completions":
            time.sleep(self.latency)  # outside the state lock: requests overlap, as at Together
        resp = self._handle(req)
        self._record(req, resp.status)
        return resp

    def _handle(self, req: Request) -> Response:
        found = route(req.method, req.path)
        if found is None:
            hint = ""
            if req.path.startswith("/v1/v1/"):
                hint = " (base_url should not end in /v1: the SDK adds it)"
            return error_response(404, f"No route {req.method} {req.path}{hint}", kind="not_found")
        operation, handler, needs_auth, params = found
        if needs_auth and (denied := self._auth(req)) is not None:
            return denied
        if operation is not None and req.method in ("POST", "PUT"):
            try:
                body = req.json() if req.body else None
            except ValueError:
                body = None
            if reasons := self.spec.check_request(operation, body):
                violation = self._violation(operation, reasons)
                if violation is not None:
                    return violation
        try:
            with self.state.lock:
                resp = handler(self.state, req, **params)
        except ApiError as err:
            resp = err.response()
        except Exception as err:  # a bug here must reach the test as a 500, not a dead socket
            resp = error_response(
                500,
                f"LocalTogether internal error: {type(err).__name__}: {err}",
                kind="server_error",
            )
            resp.headers["x-should-retry"] = "false"
        reasons = []
        if operation is not None and isinstance(resp.body, dict | list):
            reasons = self.spec.check_response(operation, resp.status, resp.body)
        if reasons and (violation := self._violation(operation or "", reasons)) is not None:
            return violation
        return resp

    def _violation(self, operation: str, reasons: list[str]) -> Response | None:
        self.spec_violations.append(SpecViolation(operation, tuple(reasons)))
        if not self.strict_spec:
            return None
        return error_response(
            500, f"LocalTogether spec violation in {operation}: " + "; ".join(reasons[:5]),
            kind="spec_violation",
        )  # fmt: skip

    def _auth(self, req: Request) -> Response | None:
        header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(
                401, "Missing API key: send 'Authorization: Bearer <key>'", kind="invalid_api_key"
            )
        if token.strip() in self.rejected_keys:
            # Never echo the key: it would end up in logs and exception text.
            return error_response(
                401, "Invalid API key provided (simulated)", kind="invalid_api_key"
            )
        return None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"LocalTogether({where}, speed={self.speed:g}, jobs={len(self.state.jobs)})"

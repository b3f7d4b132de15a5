"""The LocalTogether HTTP server: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import sys
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
    # Judges keep dozens of requests in flight; the default backlog of 5 resets connections.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away (a killed kernel, a closed pool) is not a server error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    app: LocalTogether


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "LocalTogether/simulated"
    # One buffered write per response (headers + body) and no Nagle delay: otherwise a
    # small response waits ~40 ms on the client's delayed ACK, which dwarfs model latency.
    wbufsize = 1 << 16

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
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

    Judges: ``/v1/chat/completions`` serves the serverless models of
    :mod:`prefnb.testing.serverless_models`, each answered after ``latency`` real seconds,
    and ``/v1/evaluation`` runs compare jobs; both are judged by :attr:`judge`, a
    :class:`~prefnb.testing.sim_judge.SimJudge` built from ``judge={"position_bias": 0.3,
    "length_bias": 0.1, "noise": 0.05}``. :attr:`spent_usd` is the simulated bill.

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
        from prefnb.launch.credentials import register_simulator

        register_simulator(self.base_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        from prefnb.launch.credentials import register_simulator

        register_simulator(self.base_url, running=False)
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
        after: bool = False,
        corrupt: bool = False,
    ) -> Fault:
        """Make requests matching ``pattern`` fail (see :mod:`prefnb.testing.faults`).

        A 429 carries ``Retry-After`` (``retry_after``, default 0.1 s so that SDK retries stay
        quick in tests). The fault applies before the route runs (nothing is created), unless
        ``after=True``: then the route runs and only its reply is delayed, dropped or
        replaced, as when a proxy loses the answer to a create that Together carried out.
        ``corrupt=True`` delivers the reply with one byte of its body flipped.
        """
        if status == 429 and retry_after is None:
            retry_after = 0.1
        return self.faults.add(
            pattern, status=status, times=times, delay=delay, drop=drop,
            retry_after=retry_after, message=message, after=after, corrupt=corrupt,
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
        if fault is not None and fault.corrupt:
            resp = self._handle(req)
            self._record(req, resp.status)
            body = bytearray(resp.encode())
            if body:
                body[len(body) // 2] ^= 0xFF
            resp.body = bytes(body)
            return resp
        if fault is not None and fault.after:
            acted = self._handle(req)
            self._record(req, acted.status)
            return self._fault_response(req, fault, record=False)
        if fault is not None and (fault.drop or fault.status is not None):
            return self._fault_response(req, fault, record=True)
        if fault is not None:  # a delay only: the request then goes through
            time.sleep(fault.delay)
        if self.latency > 0 and req.method == "POST" and req.path == "/v1/chat/completions":
            time.sleep(self.latency)  # outside the state lock: requests overlap, as at Together
        resp = self._handle(req)
        self._record(req, resp.status)
        return resp

    def _fault_response(self, req: Request, fault: Fault, *, record: bool) -> Response | None:
        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.drop:
            if record:
                self._record(req, 0)
            return None
        assert fault.status is not None
        resp = error_response(
            fault.status,
            fault.message or f"Simulated fault: HTTP {fault.status}",
            kind="rate_limit_exceeded" if fault.status == 429 else "server_error",
        )
        if fault.retry_after is not None:
            resp.headers["Retry-After"] = f"{fault.retry_after:g}"
        if record:
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

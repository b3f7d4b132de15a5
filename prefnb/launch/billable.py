"""Billable creates that are never sent twice: fine-tune jobs today, evaluations, batches and
endpoints tomorrow.

Together's create endpoints take no idempotency key, and the SDK retries a create whose reply
was lost (timeout, dropped connection, 5xx). When Together had already acted, that retry is a
second paid job. :func:`create_once` is the one rule every billable create goes through:

1. Before sending, an *intent* is written to the ledger: kind, the launch's key, the fields
   the created object must carry (:class:`Intent`), and the time.
2. The create is sent once, without the SDK's automatic retries.
3. On a timeout, a dropped connection or a 5xx the outcome is unknown, so nothing is re-sent
   before reconciling: the account's objects are listed and one that matches the intent
   (its fields, created after the intent, not already known to this ledger) is adopted.
   Only when the listing confirms none exists is the create sent again.
4. A kernel killed between send and reply leaves the intent open; the next launch with the
   same key reconciles it the same way before sending anything.

Example:
    >>> intent = Intent(kind="fine-tune", key="k", base_url="http://x",
    ...                 match={"training_file": "file-1", "model": "m"})
    >>> intent.matches({"id": "ft-1", "training_file": "file-1", "model": "m",
    ...                 "created_at": "2030-01-01T00:00:00Z"}, since=0.0)
    True
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import together

from prefnb.launch.errors import LaunchError, TogetherUnavailable
from prefnb.launch.ledger import Ledger
from prefnb.launch.times import epoch_seconds
from prefnb.retry import retry_after

__all__ = ["CLOCK_SLACK_S", "CREATE_ATTEMPTS", "Intent", "ambiguous", "create_once"]

T = TypeVar("T")

#: Sends of one create at most (each after a reconcile confirmed nothing was created).
CREATE_ATTEMPTS = 3
#: How far the server's clock may run behind this machine's when comparing ``created_at``.
CLOCK_SLACK_S = 300.0


@dataclass(frozen=True)
class Intent:
    """What a create is about to make: enough to recognise it in the account's listing."""

    kind: str
    key: str
    base_url: str
    match: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, obj: Mapping[str, Any], *, since: float) -> bool:
        """``obj`` (a listed object's JSON) agrees with :attr:`match` and was created after
        ``since`` (epoch seconds, less :data:`CLOCK_SLACK_S`).

        A field the listing leaves out is not held against it (a listing that omits, say,
        ``suffix`` must not make a created job look absent and get it paid twice), but at
        least one field of :attr:`match` must be present and equal.
        """
        shown = [k for k in self.match if obj.get(k) is not None]
        if self.match and not shown:
            return False
        if any(obj.get(k) != self.match[k] for k in shown):
            return False
        created = epoch_seconds(obj.get("created_at"))
        return created is None or created >= since - CLOCK_SLACK_S


def ambiguous(exc: BaseException) -> bool:
    """True when a create failed in a way that leaves open whether Together acted."""
    if isinstance(exc, (together.APITimeoutError, together.APIConnectionError)):
        return True
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, together.APIStatusError) and exc.status_code >= 500


def _rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, together.APIStatusError) and exc.status_code == 429


def create_once(
    *,
    ledger: Ledger,
    intent: Intent,
    send: Callable[[], T],
    listing: Callable[[], Iterable[Mapping[str, Any]]],
    adopt: Callable[[Mapping[str, Any]], T],
    object_id: Callable[[T], str],
    record: Callable[[T], None] = lambda _: None,
    backoff: float = 1.0,
    say: Callable[[str], None] = print,
    service: str = "Together",
) -> T:
    """Create one billable object, never two (see the module docstring).

    ``send`` performs the create with SDK retries off; ``listing`` returns the account's
    objects of this kind as JSON dicts; ``adopt`` turns a listed object into what ``send``
    returns; ``object_id`` reads the id of a created object.
    """
    pending = ledger.open_intent(intent.base_url, intent.kind, intent.key)
    if pending is not None:
        found = _reconcile(ledger, intent, listing, since=pending["created_at"])
        if found is not None:
            record(adopt(found))
            ledger.close_intent(pending["rowid"], object_id=str(found["id"]))
            say(
                f"An earlier {intent.kind} create was interrupted before its reply; {service} "
                f"had created {found['id']}, which is used instead of creating another."
            )
            return adopt(found)
        ledger.close_intent(pending["rowid"], object_id=None, state="absent")

    delay = backoff
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        started = time.time()
        rowid = ledger.write_intent(
            intent.base_url, intent.kind, intent.key, json.dumps(dict(intent.match)), started
        )
        try:
            created = send()
        except Exception as exc:
            if _rate_limited(exc) and attempt < CREATE_ATTEMPTS:
                # A 429 is a clear refusal: nothing was created, so waiting and resending is safe.
                ledger.close_intent(rowid, object_id=None, state="refused")
                told = retry_after(exc)
                time.sleep(min(told, 60.0) if told is not None else delay)
                delay = min(delay * 2, 10.0)
                continue
            if not ambiguous(exc):
                ledger.close_intent(rowid, object_id=None, state="refused")
                raise
            try:
                found = _reconcile(ledger, intent, listing, since=started)
            except Exception:
                # The intent stays open: the next run reconciles before sending.
                raise TogetherUnavailable(
                    f"The {intent.kind} create got no clear answer from {service} and its "
                    "listing could not be read to check whether it was created. Nothing was "
                    "re-sent; run the same launch again to reconcile (it will not pay twice)."
                ) from None
            if found is not None:
                record(adopt(found))
                ledger.close_intent(rowid, object_id=str(found["id"]))
                say(
                    f"The reply to the {intent.kind} create was lost, but {service} had created "
                    f"{found['id']}; using it (nothing was sent twice)."
                )
                return adopt(found)
            ledger.close_intent(rowid, object_id=None, state="absent")
            if attempt == CREATE_ATTEMPTS:
                raise TogetherUnavailable(
                    f"The {intent.kind} create failed {attempt} times and {service} confirms "
                    "nothing was created. Try again in a few minutes."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        record(created)
        ledger.close_intent(rowid, object_id=object_id(created))
        return created
    raise LaunchError("unreachable")  # pragma: no cover


def _reconcile(
    ledger: Ledger,
    intent: Intent,
    listing: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    since: float,
) -> Mapping[str, Any] | None:
    known = ledger.known_ids(intent.base_url)
    candidates = [
        obj
        for obj in listing()
        if str(obj.get("id")) not in known and intent.matches(obj, since=since)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda o: epoch_seconds(o.get("created_at")) or 0.0)

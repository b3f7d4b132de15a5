"""Regenerate ``openapi_subset.json`` from Together's OpenAPI YAML.

LocalTogether checks requests and responses against the few operations it serves. Parsing the
450 KB YAML at every start would be slow and would need the file beside the repo, so this script
copies just those operations and the schemas they reference into a small committed JSON file.

Run it when the spec is updated (PyYAML is needed only here)::

    python -m prefnb.testing.extract_spec ../shared/together-openapi.yaml  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

#: Together's spec says paths are relative to ``https://api.together.ai/v1``; LocalTogether
#: keys them with the ``/v1`` prefix the SDK puts in every request path.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/files"),
    ("get", "/files/{id}"),
    ("delete", "/files/{id}"),
    ("post", "/fine-tunes"),
    ("get", "/fine-tunes"),
    ("post", "/fine-tunes/estimate-price"),
    ("get", "/fine-tunes/{id}"),
    ("get", "/fine-tunes/{id}/events"),
    ("get", "/fine-tunes/{id}/checkpoints"),
    ("post", "/fine-tunes/{id}/cancel"),
    ("get", "/fine-tunes/{id}/metrics"),
    ("get", "/fine-tunes/models/limits"),
)

SOURCE = {
    "repository": "togethercomputer/openapi",
    "commit": "090263aa0fde006d9cd958bef52719958079bbc4",
    "file": "openapi.yaml",
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


_PROSE = {"description", "example", "examples", "x-codeSamples", "summary", "title"}


def _strip(node: Any, *, names: bool = False) -> Any:
    """Drop prose and examples: the checker needs only the structure.

    ``names`` marks a ``properties`` map, whose keys are field names, never prose.
    """
    if isinstance(node, dict):
        return {
            k: _strip(v, names=(k == "properties" and not names))
            for k, v in node.items()
            if names or k not in _PROSE
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``spec`` LocalTogether checks against."""
    ops: dict[str, Any] = {}
    for method, path in OPERATIONS:
        op = spec["paths"][path][method]
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        responses = {}
        for status, resp in op.get("responses", {}).items():
            schema = resp.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                responses[str(status)] = _strip(schema)
        ops[f"{method.upper()} /v1{path}"] = {
            "request": _strip(body.get("schema")) if body else None,
            "responses": responses,
        }
    names: set[str] = set()
    _refs(ops, names)
    schemas: dict[str, Any] = {}
    all_schemas = spec["components"]["schemas"]
    while names - schemas.keys():
        for name in sorted(names - schemas.keys()):
            schemas[name] = _strip(all_schemas[name])
            _refs(schemas[name], names)
    return {"source": SOURCE, "operations": ops, "schemas": dict(sorted(schemas.items()))}


def main(argv: list[str]) -> int:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    src = Path(argv[0]) if argv else Path("../shared/together-openapi.yaml")
    raw = src.read_bytes()
    subset = extract(yaml.safe_load(raw))
    subset["source"] = {**SOURCE, "sha256": hashlib.sha256(raw).hexdigest()}
    out = Path(__file__).with_name("openapi_subset.json")
    out.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

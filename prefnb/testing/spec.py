"""Check LocalTogether's requests and responses against Together's OpenAPI spec.

The schemas come from ``openapi_subset.json`` (extracted by :mod:`prefnb.testing.extract_spec`
from ``togethercomputer/openapi`` at the commit recorded in the file). Where the installed SDK and
the spec disagree, :data:`OVERRIDES` patches the spec so that what the SDK really sends and
expects passes; each override is listed in ``SPEC_DIFFERENCES.md``.

Only the JSON Schema keywords the subset uses are understood: ``type`` (with OpenAPI's
``nullable``), ``enum``, ``const``, ``required``, ``properties``, ``additionalProperties``,
``items``, ``oneOf``/``anyOf``/``allOf`` and ``$ref``. Formats are not checked.

Example:
    >>> spec = Spec.load()
    >>> body = {"data": [{"step": 1, "path": "p", "created_at": "t"}]}
    >>> spec.check_response("GET /v1/fine-tunes/{id}/checkpoints", 200, body)
    ['response.data[0]: missing required field checkpoint_type']
    >>> spec.check_request("POST /v1/fine-tunes", {"training_file": "file-1", "model": "m"})
    []
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUBSET_PATH = Path(__file__).with_name("openapi_subset.json")

Schema = dict[str, Any]


def _add_enum(*values: str) -> Callable[[Schema], None]:
    def patch(schema: Schema) -> None:
        schema["enum"] = [*schema["enum"], *[v for v in values if v not in schema["enum"]]]

    return patch


def _unrequire(*fields: str) -> Callable[[Schema], None]:
    def patch(schema: Schema) -> None:
        schema["required"] = [f for f in schema.get("required", []) if f not in fields]

    return patch


def _drop_type(prop: str) -> Callable[[Schema], None]:
    def patch(schema: Schema) -> None:
        schema["properties"][prop].pop("type", None)

    return patch


def _nullable(prop: str) -> Callable[[Schema], None]:
    def patch(schema: Schema) -> None:
        schema.setdefault("properties", {}).setdefault(prop, {})["nullable"] = True

    return patch


def _allow_property(name: str, prop: Schema) -> Callable[[Schema], None]:
    def patch(schema: Schema) -> None:
        schema.setdefault("properties", {})[name] = prop

    return patch


#: (where, patch, why) — every place LocalTogether follows the SDK instead of the spec.
#: ``where`` is ``schemas/<Name>`` or ``<METHOD path>/request``.
OVERRIDES: tuple[tuple[str, Callable[[Schema], None], str], ...] = (
    (
        "schemas/FinetuneJobStatus",
        _add_enum("user_error"),
        "the SDK's FinetuneJobStatus and COMPLETED_STATUSES include user_error",
    ),
    (
        "schemas/FinetuneEventType",
        _add_enum("eval_complete", "job_user_error"),
        "the SDK's FinetuneEventType has EVAL_COMPLETE and JOB_USER_ERROR",
    ),
    (
        "schemas/FileResponse",
        _unrequire("Processed"),
        "the SDK's FileResponse has processing_status/validation_report, not Processed "
        "(LocalTogether sends both)",
    ),
    (
        "schemas/TrainingMethodSFT",
        _drop_type("train_on_inputs"),
        "the spec gives train_on_inputs type boolean *and* oneOf [boolean, 'auto'], so 'auto' "
        "(the SDK's default) could never pass; the oneOf is kept",
    ),
    (
        "POST /v1/fine-tunes/request",
        _unrequire("model"),
        "the SDK omits model when from_checkpoint is given (and forbids sending both)",
    ),
    (
        "POST /v1/fine-tunes/request",
        _allow_property("wandb_key", {"type": "string"}),
        "the SDK sends the W&B key as wandb_key; the spec names it wandb_api_key",
    ),
    (
        "schemas/FineTuneModelLimits",
        _nullable("full_training"),
        "the SDK's FinetuneModelLimits.full_training is Optional: a LoRA-only model has none",
    ),
    (
        "POST /v1/fine-tunes/estimate-price/request",
        _nullable("validation_file"),
        "the 3.1.1 CLI sends validation_file: null to estimate-price when no file is given",
    ),
)


@dataclass
class Spec:
    """The OpenAPI subset with the SDK overrides applied."""

    operations: dict[str, Any]
    schemas: dict[str, Schema]
    source: dict[str, str]

    @classmethod
    def load(cls, path: Path = SUBSET_PATH) -> Spec:
        raw = json.loads(path.read_text(encoding="utf-8"))
        spec = cls(copy.deepcopy(raw["operations"]), copy.deepcopy(raw["schemas"]), raw["source"])
        for where, patch, _why in OVERRIDES:
            if where.startswith("schemas/"):
                patch(spec.schemas[where.removeprefix("schemas/")])
            else:
                op, _, part = where.rpartition("/")
                patch(spec.operations[op][part])
        return spec

    def check_request(self, operation: str, body: Any) -> list[str]:
        """Reasons ``body`` does not match the request schema of ``operation`` (empty if fine)."""
        op = self.operations.get(operation)
        if op is None or op.get("request") is None or body is None:
            return []
        return self.check(op["request"], body, "request")

    def check_response(self, operation: str, status: int, body: Any) -> list[str]:
        """Reasons ``body`` does not match the spec's response for ``status`` (empty if fine)."""
        op = self.operations.get(operation)
        if op is None:
            return []
        schema = op["responses"].get(str(status))
        if schema is None:
            return []
        return self.check(schema, body, "response")

    def check(self, schema: Schema, value: Any, where: str) -> list[str]:
        errors: list[str] = []
        self._check(schema, value, where, errors)
        return errors

    def _resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self.schemas[name], **rest}
        return schema

    def _check(self, schema: Schema, value: Any, where: str, errors: list[str]) -> None:
        schema = self._resolve(schema)
        if value is None and (schema.get("nullable") or None in schema.get("enum", [0])):
            return
        for combo in ("oneOf", "anyOf"):
            if combo in schema:
                matches = [s for s in schema[combo] if not self.check(s, value, where)]
                if not matches:
                    options = [self._describe(s) for s in schema[combo]]
                    errors.append(f"{where}: {value!r:.80} matches none of {options}")
                    return
        for sub in schema.get("allOf", []):
            self._check(sub, value, where, errors)
        expected = schema.get("type")
        if expected is not None and not _has_type(value, expected):
            errors.append(f"{where}: expected {expected}, got {type(value).__name__} {value!r:.80}")
            return
        if "const" in schema and value != schema["const"]:
            errors.append(f"{where}: expected {schema['const']!r}, got {value!r:.80}")
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: {value!r:.80} is not one of {schema['enum']}")
        if isinstance(value, dict):
            for field in schema.get("required", []):
                if field not in value:
                    errors.append(f"{where}: missing required field {field}")
            props: dict[str, Schema] = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    self._check(props[key], item, f"{where}.{key}", errors)
                elif extra is False:
                    errors.append(f"{where}: unexpected field {key}")
                elif isinstance(extra, dict):
                    self._check(extra, item, f"{where}.{key}", errors)
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                self._check(schema["items"], item, f"{where}[{i}]", errors)

    def _describe(self, schema: Schema) -> str:
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[1]
        return str(schema.get("type", "schema"))


def _has_type(value: Any, expected: str | list[str]) -> bool:
    kinds = [expected] if isinstance(expected, str) else expected
    for kind in kinds:
        if kind == "null" and value is None:
            return True
        if kind == "object" and isinstance(value, dict):
            return True
        if kind == "array" and isinstance(value, list):
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
    return False

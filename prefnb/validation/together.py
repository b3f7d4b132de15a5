"""The line rules of together 1.5.34's local ``check_file``, re-implemented rule for rule.

Every line of a fine-tuning JSONL file is parsed, its format detected (the first of
general, conversation, instruction, preference_openai whose required columns are all
present), its keys checked for extra columns, its content checked by that format's rules and
its format compared with the first line's. The SDK stops at the first error; prefnb reports
the first error of every line, with the SDK's message text word for word and a JSON path.

Example:
    >>> line = {"input": {"messages": [{"role": "user", "content": "hi"}]},
    ...         "preferred_output": [{"role": "assistant", "content": "hello"}],
    ...         "non_preferred_output": [{"role": "user", "content": "go away"}]}
    >>> fmt, problem = check_line(line, 7)
    >>> fmt, problem.code, problem.path
    ('preference_openai', 'together.output_role', 'non_preferred_output[0].role')
    >>> problem.message  # doctest: +NORMALIZE_WHITESPACE
    "The dataset is malformed, the first element of `non_preferred_output` must have the
    'assistant' role on line 7."
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "Problem",
    "check_content",
    "check_line",
    "check_messages",
    "check_preference",
    "detect_format",
]

#: Required top-level columns per format, in the SDK's detection order.
FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "general": ("text",),
    "conversation": ("messages",),
    "instruction": ("prompt", "completion"),
    "preference_openai": ("input", "preferred_output", "non_preferred_output"),
}
ROLES: Final[tuple[str, ...]] = ("system", "user", "assistant")
MAX_FILE_GB: Final[float] = 50.1
MAX_FILE_BYTES: Final[float] = MAX_FILE_GB * 2**30
MAX_IMAGES: Final[int] = 10
MAX_BASE64_IMAGE_LENGTH: Final[int] = len("data:image/jpeg;base64,") + 4 * (10 * 1024 * 1024) // 3
IMAGE_PREFIXES: Final[tuple[str, ...]] = tuple(
    f"data:image/{fmt};base64," for fmt in ("jpeg", "png", "webp")
)

MSG_NOT_OBJECT: Final[str] = (
    "Error parsing file. Invalid format on line {n} of the input file. Datasets must follow "
    "text, conversational, or instruction format. For moreinformation, see "
    "https://docs.together.ai/docs/fine-tuning-data-preparation"
)
MSG_JSON: Final[str] = "Error parsing json payload. Unexpected format on line {n}."


class Problem(NamedTuple):
    """The first rule a line breaks: stable code, the SDK's message, JSON path."""

    code: str
    message: str
    path: str = ""


class _Fail(Exception):
    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(code, message, path)


def _t(value: object) -> str:
    return str(type(value))


def detect_format(obj: dict[str, Any], n: int) -> str:
    """The SDK's format detection and extra-column check for one parsed line.

    Raises ``_Fail`` for an extra column or an undetectable line.
    """
    current: str | None = None
    for fmt, required in FORMATS.items():
        if all(col in obj for col in required):
            if current is None:
                current = fmt
            elif current != fmt:  # unreachable in 1.5.34: the extra-column check fires first
                raise _Fail(
                    "together.multiple_formats",
                    "Found multiple dataset formats in the input file. "
                    f"Got {current} and {fmt} on line {n}.",
                )
            for col in obj:
                if col not in required:
                    raise _Fail(
                        "together.extra_column",
                        f'Found extra column "{col}" in the line {n}.',
                        str(col),
                    )
    if current is None:
        raise _Fail(
            "together.no_format",
            f"Error parsing file. Could not detect a format for the line {n} with the "
            f"columns:\n{obj.keys()}",
        )
    return current


def check_content(content: Any, role: str, n: int, path: str) -> tuple[bool, int]:
    """``_check_message_content``: string, or a multimodal list of text/image parts.

    Returns (is_multimodal, number of images).
    """
    if isinstance(content, str):
        return False, 0
    if isinstance(content, list):
        images = 0
        for i, item in enumerate(content):
            p = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise _Fail(
                    "together.content_part_not_dict",
                    "The dataset is malformed, the `content` field must be a list of dicts.",
                    p,
                )
            if "type" not in item:
                raise _Fail(
                    "together.content_part_no_type",
                    "The dataset is malformed, the `content` field must be a list of dicts "
                    "with a `type` field.",
                    p,
                )
            kind = item["type"]
            if kind == "text":
                if "text" not in item or not isinstance(item["text"], str):
                    raise _Fail(
                        "together.content_text",
                        "The dataset is malformed, the `text` field must be present in the "
                        f"`content` item field and be a string. Got '{item.get('text')!r}' "
                        "instead.",
                        f"{p}.text",
                    )
            elif kind == "image_url":
                if role != "user":
                    raise _Fail(
                        "together.image_role",
                        "The dataset is malformed, only user messages can contain images.",
                        p,
                    )
                if "image_url" not in item or not isinstance(item["image_url"], dict):
                    raise _Fail(
                        "together.image_url",
                        "The dataset is malformed, the `image_url` field must be present in the "
                        "`content` field and be a dictionary. "
                        f"Got {item.get('image_url')!r} instead.",
                        f"{p}.image_url",
                    )
                data = item["image_url"].get("url")
                if not data or not isinstance(data, str):
                    raise _Fail(
                        "together.image_url",
                        "The dataset is malformed, the `url` field must be present in the "
                        f"`image_url` field and be a string. Got {data!r} instead.",
                        f"{p}.image_url.url",
                    )
                if not data.startswith(IMAGE_PREFIXES):
                    raise _Fail(
                        "together.image_format",
                        "The dataset is malformed, the `url` field must be either a JPEG, PNG "
                        "or WEBP base64-encoded image in "
                        "'data:image/<format>;base64,<base64_encoded_image>' format. "
                        f"Got '{data[:100]}...' instead.",
                        f"{p}.image_url.url",
                    )
                if len(data) > MAX_BASE64_IMAGE_LENGTH:
                    raise _Fail(
                        "together.image_size",
                        "The dataset is malformed, the `url` field must contain base64-encoded "
                        f"image that is less than 10MB, found ~{len(data) * 3 // 4} bytes.",
                        f"{p}.image_url.url",
                    )
                images += 1
            else:
                raise _Fail(
                    "together.content_part_type",
                    "The dataset is malformed, the `type` field must be either 'text' or "
                    f"'image_url'. Got {kind!r}.",
                    f"{p}.type",
                )
        if images > MAX_IMAGES:
            raise _Fail(
                "together.too_many_images",
                "The dataset is malformed, the `content` field must contain at most "
                f"{MAX_IMAGES} images, found {images}.",
                path,
            )
        return True, images
    raise _Fail(
        "together.content_type",
        f"Invalid content type on line {n} of the input file. Expected string or multimodal "
        f"list of dicts, found {_t(content)}",
        path,
    )


def check_messages(messages: Any, n: int, *, require_assistant: bool, path: str) -> None:
    """``validate_messages``: container checks first, then each message in order."""
    bad = f"Invalid format on line {n} of the input file. "
    if not isinstance(messages, list):
        raise _Fail(
            "together.messages_not_list",
            f"{bad}The `messages` column must be a list. Found {_t(messages)}",
            path,
        )
    if not messages:
        raise _Fail(
            "together.messages_empty", f"{bad}The `messages` column must not be empty.", path
        )
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise _Fail(
                "together.message_not_dict",
                f"{bad}The `messages` column must be a list of dicts. Found {_t(msg)}",
                f"{path}[{i}]",
            )
        for col in ("role", "content"):
            if col not in msg:
                raise _Fail(
                    f"together.message_missing_{col}",
                    f"Missing required column `{col}` in message on line {n}.",
                    f"{path}[{i}]",
                )
    previous: str | None = None
    has_assistant = False
    multimodal: bool | None = None
    total_images = 0
    for i, msg in enumerate(messages):
        p = f"{path}[{i}]"
        weight = None
        if "weight" in msg:
            weight = msg["weight"]
            if not isinstance(weight, int):
                raise _Fail(
                    "together.weight_type", f"Weight must be an integer on line {n}.", f"{p}.weight"
                )
            if weight not in (0, 1):
                raise _Fail(
                    "together.weight_value",
                    f"Weight must be either 0 or 1 on line {n}.",
                    f"{p}.weight",
                )
        role = msg["role"]
        if not isinstance(role, str):
            raise _Fail(
                "together.role_type",
                f"Invalid role `{role}` in conversation on line {n}. "
                f"Role must be a string. Found {_t(role)}",
                f"{p}.role",
            )
        if role not in ROLES:
            raise _Fail(
                "together.role_invalid",
                f"Invalid role `{role}` in conversation on line {n}. "
                f"Possible roles: {', '.join(ROLES)}",
                f"{p}.role",
            )
        if previous is not None and role == previous:
            raise _Fail(
                "together.role_turns",
                f"Invalid role turns on line {n} of the input file. After the optional system "
                "message, conversation roles must alternate between "
                "user/assistant/user/assistant.",
                f"{p}.role",
            )
        previous = role
        has_assistant |= role == "assistant"
        is_mm, images = check_content(msg["content"], role, n, f"{p}.content")
        if images > 0 and weight is not None and weight != 0:
            raise _Fail(
                "together.image_weight", "Messages with images cannot have non-zero weights.", p
            )
        if multimodal is None:
            multimodal = is_mm
        elif multimodal != is_mm:
            raise _Fail(
                "together.mixed_multimodal",
                "Messages in the conversation must be either all in multimodal or all in "
                "text-only format.",
                f"{p}.content",
            )
        total_images += images
    if total_images > MAX_IMAGES:
        raise _Fail(
            "together.too_many_images",
            f"The dataset is malformed, the `messages` must contain at most {MAX_IMAGES} "
            f"images. Found {total_images} images.",
            path,
        )
    if require_assistant and not has_assistant:
        raise _Fail(
            "together.assistant_required",
            f"{bad}At least one message with the assistant role must be present in the example.",
            path,
        )


def check_preference(obj: dict[str, Any], n: int) -> None:
    """``validate_preference_openai`` for a line detected as preference_openai."""
    malformed = "The dataset is malformed, the"
    inp = obj["input"]
    if not isinstance(inp, dict):
        raise _Fail(
            "together.input_not_dict", f"{malformed} `input` field must be a dictionary.", "input"
        )
    if "messages" not in inp:
        raise _Fail(
            "together.input_no_messages",
            f"{malformed} `input` dictionary must contain a `messages` field.",
            "input",
        )
    messages = inp["messages"]
    check_messages(messages, n, require_assistant=False, path="input.messages")
    if messages[-1]["role"] == "assistant":
        raise _Fail(
            "together.last_input_assistant",
            "The last message in the input conversation must not be from the assistant on "
            f"line {n}.",
            f"input.messages[{len(messages) - 1}].role",
        )
    for key in ("preferred_output", "non_preferred_output"):
        value = obj[key]
        if not isinstance(value, list):
            raise _Fail(
                "together.output_not_list",
                f"{malformed} `{key}` field must be a list on line {n}.",
                key,
            )
        if len(value) != 1:
            raise _Fail(
                "together.output_count",
                f"{malformed} `{key}` list must contain exactly one message on line {n}.",
                key,
            )
        first = value[0]
        p = f"{key}[0]"
        if not isinstance(first, dict):
            raise _Fail(
                "together.output_not_dict",
                f"{malformed} first element of `{key}` must be a dictionary on line {n}.",
                p,
            )
        if "role" not in first:
            raise _Fail(
                "together.output_no_role",
                f"{malformed} first element of `{key}` must have a 'role' field on line {n}.",
                p,
            )
        if first["role"] != "assistant":
            raise _Fail(
                "together.output_role",
                f"{malformed} first element of `{key}` must have the 'assistant' role on line {n}.",
                f"{p}.role",
            )
        if "content" not in first:
            raise _Fail(
                "together.output_no_content",
                f"{malformed} first element of `{key}` must have a 'content' field on line {n}.",
                p,
            )
        check_content(first["content"], "assistant", n, f"{p}.content")


def check_line(
    obj: Any, n: int, dataset_format: str | None = None
) -> tuple[str | None, Problem | None]:
    """Check one parsed line (1-based number ``n``) as together 1.5.34 does.

    ``dataset_format`` is the first line's format; a line of another format is an error
    (after its own content checks, as in the SDK). Returns (detected format, first problem).
    """
    if not isinstance(obj, dict):
        return None, Problem("together.not_object", MSG_NOT_OBJECT.format(n=n))
    fmt: str | None = None
    try:
        fmt = detect_format(obj, n)
        if fmt == "preference_openai":
            check_preference(obj, n)
        elif fmt == "conversation":
            check_messages(obj["messages"], n, require_assistant=True, path="messages")
        else:
            for col in FORMATS[fmt]:
                check_content(obj[col], "assistant" if col == "completion" else "user", n, col)
    except _Fail as fail:
        return fmt, fail.problem
    if dataset_format is not None and fmt != dataset_format:
        return fmt, Problem(
            "together.format_mismatch",
            "All samples in the dataset must have the same dataset format. "
            f"Got DatasetFormat.{dataset_format.upper()} for the first line and "
            f"DatasetFormat.{fmt.upper()} for the line {n}.",
        )
    return fmt, None

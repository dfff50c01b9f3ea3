"""OpenAPI post-processing: every operation documents the errors it can answer.

All errors share one shape (crm.api.exceptions): a JSON object naming the field
(`{"name": ["This field is required."]}`), or `{"detail": "..."}` for authentication,
permission, not found, size and throttling errors.
"""

ERROR_COMPONENT = "Error"

_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. Validation errors are keyed by field (bulk: by row index, then field), "
        "each holding a list of messages; other errors hold `detail`."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Invalid input: the offending field(s) named, each with its messages.",
    "401": "No or invalid credentials.",
    "403": "The user's role may not do this.",
    "404": "No such record, or a page past the end of the list.",
    "413": "Request body too large.",
    "415": "Unsupported body media type (send application/json).",
    "429": "Too many requests (throttled).",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = _ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if path.endswith(("/schema/", "/docs/")):
                continue
            # 404 everywhere: a record that does not exist, or a page past the end of a list.
            codes = ["400", "401", "403", "404", "429"]
            if method in ("post", "put", "patch"):
                codes.extend(["413", "415"])
            for code in codes:
                response = operation["responses"].setdefault(
                    code, {"description": _DESCRIPTIONS[code]}
                )
                response.setdefault("content", {})
                for media in ("application/json",):
                    response["content"].setdefault(media, {"schema": ref})
    return result

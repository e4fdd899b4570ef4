"""Discord limits the fake enforces (the ones a bot most likely trips over)."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, form_error
from .models import UploadedFile, walk_components


def validate_message(data: dict[str, Any], *, files: list[UploadedFile], creating: bool) -> None:
    """The Discord limits a bot is most likely to trip over (content, embeds, components)."""
    content = data.get("content")
    if content is not None and len(content) > 2000:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            if len(e.get(key) or "") > limit:
                raise form_error(
                    f"embeds.{i}.{key}",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
            total += len(e.get(key) or "")
        fields = e.get("fields") or []
        if len(fields) > 25:
            raise form_error(
                f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for j, f in enumerate(fields):
            if not f.get("name") or not f.get("value"):
                raise form_error(
                    f"embeds.{i}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required"
                )
            if len(f["name"]) > 256 or len(f["value"]) > 1024:
                raise form_error(
                    f"embeds.{i}.fields.{j}.value",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 1024 or fewer in length.",
                )
            total += len(f["name"]) + len(f["value"])
        total += len((e.get("footer") or {}).get("text") or "") + len(
            (e.get("author") or {}).get("name") or ""
        )
    if total > 6000:
        raise form_error(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    components = data.get("components") or []
    validate_components(components, v2=bool(int(data.get("flags") or 0) & (1 << 15)))
    if creating:
        has_body = (
            bool(content)
            or embeds
            or components
            or files
            or data.get("sticker_ids")
            or data.get("poll")
        )
        if not has_body and not data.get("attachments"):
            raise ApiError(400, 50006, "Cannot send an empty message")


def validate_components(components: list[dict[str, Any]], *, v2: bool = False) -> None:
    if not v2 and len(components) > 5:
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(components):
        if not v2 and row.get("type") != 1:
            raise form_error(
                f"components.{i}.type",
                "UNION_TYPE_CHOICES",
                "Top-level components must be action rows",
            )
        if row.get("type") == 1 and len(row.get("components") or []) > 5:
            raise form_error(
                f"components.{i}.components",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 5 or fewer in length.",
            )
    for comp in walk_components(components):
        cid = comp.get("custom_id")
        if cid is not None:
            if not 1 <= len(cid) <= 100:
                raise form_error(
                    "components.custom_id",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if cid in seen:
                raise form_error(
                    "components",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(cid)
        if comp.get("type") == 2 and len(comp.get("label") or "") > 80:
            raise form_error(
                "components.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."
            )
        if comp.get("type") == 3 and len(comp.get("options") or []) > 25:
            raise form_error(
                "components.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )


def validate_modal(data: dict[str, Any]) -> None:
    if not data.get("custom_id") or len(data["custom_id"]) > 100:
        raise form_error(
            "data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    if not data.get("title") or len(data["title"]) > 45:
        raise form_error(
            "data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."
        )
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        raise form_error(
            "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    for comp in walk_components(comps):
        if comp.get("type") == 4:
            if comp.get("label") is not None and len(comp["label"]) > 45:
                raise form_error(
                    "data.components.label",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 45 in length.",
                )
            if len(comp.get("value") or "") > int(comp.get("max_length") or 4000):
                raise form_error("data.components.value", "BASE_TYPE_MAX_LENGTH", "Value too long")
        if comp.get("type") == 18 and len(comp.get("label") or "") > 45:
            raise form_error(
                "data.components.label",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 45 in length.",
            )

"""AIP-134 update masks: which fields of a stored business, product or combo an Update* changes.

An Update* request carries the entity and an `update_mask`. The fields the mask names are
taken from the request, every other field keeps its stored value: the stored entity (its
draft copy) is read, the named fields are copied onto it (`FieldMask.MergeMessage`, a named
message or list replaced whole) and the result is validated and stored as a full update,
under the same optimistic concurrency (`expected_revision`), so no concurrent change is lost.

- empty mask: AIP-134's implied mask, the fields populated in the request's entity (an
  unset or empty field is kept; clearing one needs a mask that names it, or "*");
- "*": the whole entity is replaced (unset fields are cleared), as every update did before
  masks;
- paths are proto field names relative to the entity ("rule_sources", "valid_for.end"; JSON
  clients write them in lowerCamelCase, which the JSON mapping turns into these); `code`
  names the entity and cannot be in a mask; `status` and `meta` are output only and ignored,
  as they are in the entity itself; an unknown path is INVALID_ARGUMENT.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from tariff.mappers.common import Problems

WHOLE = "*"
#: The entity's name: a mask cannot change it.
NAMING = "code"
#: Output-only fields: ignored in a mask as in the entity.
OUTPUT_ONLY = frozenset({"status", "meta"})


def mask_paths(
    mask: field_mask_pb2.FieldMask, entity: Message, field: str, problems: Problems
) -> list[str] | None:
    """The paths of `entity` an update copies, None for the whole entity ("*"). Every bad
    path is a violation at `field.paths[i]`."""
    if not mask.paths:
        implied = (f.name for f, _ in entity.ListFields())
        return [name for name in implied if name != NAMING and name not in OUTPUT_ONLY]
    if list(mask.paths) == [WHOLE]:
        return None
    found = []
    for index, path in enumerate(mask.paths):
        problem = path_problem(path, entity.DESCRIPTOR)
        if problem is not None:
            problems.add(f"{field}.paths[{index}]", problem)
        elif path.split(".", 1)[0] not in OUTPUT_ONLY:
            found.append(path)
    return found


def path_problem(path: str, descriptor: Any) -> str | None:
    """Why `path` is not a field of `descriptor` a mask may name (None: it is)."""
    if path == WHOLE:
        return '"*" replaces the whole entity: send it as the only path'
    parts = path.split(".")
    if parts[0] == NAMING:
        return "the code names the entity and cannot change: create another one instead"
    current = descriptor
    for depth, part in enumerate(parts):
        known = current.fields_by_name.get(part)
        if known is None:
            where = ".".join(parts[:depth]) or current.full_name
            return f"{path!r} is not a field: {where} has no field {part!r}"
        if depth < len(parts) - 1:
            if known.message_type is None or known.is_repeated:
                return f"{path!r} is not a field: {part} has no fields a mask can name"
            current = known.message_type
    return None


def merged(stored: Message, given: Message, paths: list[str]) -> Message:
    """`stored` with the `paths` of `given` copied over it (named messages and lists
    replaced, not merged)."""
    out = type(stored)()
    out.CopyFrom(stored)
    if paths:
        field_mask_pb2.FieldMask(paths=paths).MergeMessage(
            given, out, replace_message_field=True, replace_repeated_field=True
        )
    return out

"""Lifecycle rules (TMF620 names): which transitions exist and what a write does to the state.

    IN_DESIGN <-> IN_TEST --publish--> LAUNCHED <-> RETIRED --> OBSOLETE

A write to an IN_TEST, LAUNCHED or RETIRED entity makes it IN_DESIGN again (what was tested or
published is not what is written now); published content stays in force until a later
publish carries the new one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from catalog.errors import LifecycleViolation
from catalog.model import Definition, Entry, LifecycleStatus

S = LifecycleStatus

TRANSITIONS: dict[LifecycleStatus, frozenset[LifecycleStatus]] = {
    S.IN_DESIGN: frozenset({S.IN_TEST}),
    S.IN_TEST: frozenset({S.IN_DESIGN}),
    S.LAUNCHED: frozenset({S.RETIRED}),
    S.RETIRED: frozenset({S.LAUNCHED, S.OBSOLETE}),
    S.OBSOLETE: frozenset(),
}

_HINTS: dict[LifecycleStatus, str] = {
    S.LAUNCHED: "an entity becomes LAUNCHED by publishing the catalog while it is IN_TEST",
    S.RETIRED: "only a LAUNCHED entity can be retired",
    S.OBSOLETE: "retire it first",
}


def transition(entry: Entry, to: LifecycleStatus, now: datetime) -> Entry:
    """Move an entry to `to`, or raise LifecycleViolation saying why not."""
    current = entry.state.status
    if to not in TRANSITIONS[current]:
        hint = _HINTS.get(to, "")
        allowed = ", ".join(sorted(s.name for s in TRANSITIONS[current])) or "none"
        raise LifecycleViolation(
            f"{entry.kind.value} {entry.code!r} cannot go from {current.name} to {to.name} "
            f"(allowed: {allowed})" + (f"; {hint}" if hint else "")
        )
    if to is S.LAUNCHED and entry.published is None:
        raise LifecycleViolation(
            f"{entry.kind.value} {entry.code!r} was never published; {_HINTS[S.LAUNCHED]}"
        )
    return replace(
        entry,
        state=replace(entry.state, status=to, revision=entry.state.revision + 1, updated_at=now),
    )


def revise(entry: Entry, definition: Definition, now: datetime) -> Entry:
    """Apply a new definition to the working copy; a published entity gets a new draft."""
    status = entry.state.status
    if status is S.OBSOLETE:
        raise LifecycleViolation(
            f"{entry.kind.value} {entry.code!r} is OBSOLETE and can no longer change"
        )
    if definition == entry.definition:
        return entry
    if status is not S.IN_DESIGN:
        status = S.IN_DESIGN  # what was tested or published is not what is written now
    return replace(
        entry,
        definition=definition,
        state=replace(
            entry.state, status=status, revision=entry.state.revision + 1, updated_at=now
        ),
    )

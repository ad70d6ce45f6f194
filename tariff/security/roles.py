"""Roles, deny by default: one table from every RPC to the role it needs.

`reader` is an order system (eligibility, quotes, rating, catalog reads); `author` edits the
draft, imports bundles and runs checks; `approver` approves and publishes; `admin` may do
everything and alone reads the audit log. Authors and approvers also read (they review
what they change). A method missing from the table is refused to everyone, so a new RPC
stays closed until someone decides who may call it. Health and reflection are open: load
balancers and tools call them without credentials.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Role(enum.StrEnum):
    READER = "reader"
    AUTHOR = "author"
    APPROVER = "approver"
    ADMIN = "admin"


#: What holding a role grants besides itself.
IMPLIES: dict[Role, frozenset[Role]] = {
    Role.READER: frozenset(),
    Role.AUTHOR: frozenset({Role.READER}),
    Role.APPROVER: frozenset({Role.READER}),
    Role.ADMIN: frozenset(Role),
}

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")

_CATALOG = "/tariff.v1.CatalogService/"
_QUALIFICATION = "/tariff.v1.QualificationService/"
_PRICING = "/tariff.v1.PricingService/"
_RULES = "/tariff.v1.RulesService/"
_GOVERNANCE = "/tariff.v1.GovernanceService/"

_R, _AU, _AP, _AD = Role.READER, Role.AUTHOR, Role.APPROVER, Role.ADMIN

#: Full gRPC method name -> the role it needs.
METHOD_ROLES: dict[str, Role] = {
    # order systems
    _QUALIFICATION + "CheckEligibility": _R,
    _QUALIFICATION + "ListEligibleOffers": _R,
    _PRICING + "Quote": _R,
    _PRICING + "Rate": _R,
    _PRICING + "RateStream": _R,
    _PRICING + "RateBatch": _R,
    _PRICING + "CreateQuote": _R,
    _PRICING + "GetQuote": _R,
    _PRICING + "AcceptQuote": _R,
    _PRICING + "AuthorizeUsage": _R,
    # catalog reads
    _CATALOG + "GetBusiness": _R,
    _CATALOG + "ListBusinesses": _R,
    _CATALOG + "GetProduct": _R,
    _CATALOG + "ListProducts": _R,
    _CATALOG + "GetCombo": _R,
    _CATALOG + "ListCombos": _R,
    _CATALOG + "GetReferenceData": _R,
    _CATALOG + "GetZoneTable": _R,
    _CATALOG + "ListCatalogVersions": _R,
    _CATALOG + "GetCatalogVersion": _R,
    _CATALOG + "DiffCatalogVersions": _R,
    _CATALOG + "ExportCatalogBundle": _R,
    _GOVERNANCE + "GetReview": _R,
    # draft edits, imports, checks
    _CATALOG + "CreateBusiness": _AU,
    _CATALOG + "UpdateBusiness": _AU,
    _CATALOG + "CreateProduct": _AU,
    _CATALOG + "UpdateProduct": _AU,
    _CATALOG + "CreateCombo": _AU,
    _CATALOG + "UpdateCombo": _AU,
    _CATALOG + "AttachRuleSources": _AU,
    _CATALOG + "TransitionLifecycle": _AU,
    _CATALOG + "PutReferenceData": _AU,
    _CATALOG + "PutZoneTable": _AU,
    _CATALOG + "ImportCatalogBundle": _AU,
    _RULES + "CheckRules": _AU,
    _RULES + "TestRules": _AU,
    _RULES + "Simulate": _AU,
    _GOVERNANCE + "SubmitForReview": _AU,
    # approve and publish
    _GOVERNANCE + "ApproveDraft": _AP,
    _CATALOG + "PublishCatalog": _AP,
    # the audit log
    _GOVERNANCE + "ListAuditEntries": _AD,
}


def is_open(method: str) -> bool:
    return method.startswith(OPEN_PREFIXES)


def required_role(method: str) -> Role | None:
    """The role a method needs; None when no role may call it (not in the table)."""
    return METHOD_ROLES.get(method)


def granted(roles: Iterable[Role]) -> frozenset[Role]:
    """Every role the given ones amount to."""
    out: set[Role] = set()
    for role in roles:
        out.add(role)
        out |= IMPLIES[role]
    return frozenset(out)


def parse_roles(names: Iterable[str]) -> tuple[Role, ...]:
    """Roles by name; ValueError naming an unknown one."""
    roles = []
    for name in names:
        try:
            roles.append(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {name!r} (one of {known})") from None
    return tuple(roles)

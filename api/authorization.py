"""Enforces domain/access/__init__.py's ENTRY_POINTS on every root field, in one place.

The schema builder gives each Query, Mutation and Subscription field an `Authorize`
extension that checks the field's rule before its resolver runs. A refused query or
subscription is a top-level error with the code FORBIDDEN or UNAUTHENTICATED (SPEC §4: top-level
errors are for authorization); a refused mutation answers its payload with that code in
`userErrors`, like every other refusal of a mutation, and runs nothing.

The same gate checks and normalises every text of a field's arguments (api/text.py:
bounded, NFC, no NUL, control or bidi-override characters, nothing invisible in an
identifier), refused as INVALID_INPUT before anything runs.

Each root mutation also starts with empty DataLoaders: the mutations of one operation run one
after another, and what an earlier one read through the loaders (an order's returns, say) is
not what a later one has changed it to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.field import StrawberryField

from api.errors import UserError
from api.text import clean_arguments
from domain import access
from domain.kernel.errors import DomainError


def _refusal_payload(payload_type: Any) -> Any:
    """A mutation payload with nothing in it but `userErrors` (filled in when refused)."""
    definition = get_object_definition(payload_type, strict=True)
    empty: dict[str, Callable[[], Any]] = {}
    for f in definition.fields:
        if f.base_resolver is not None or f.python_name == "user_errors":
            continue
        if isinstance(f.type, StrawberryList):
            empty[f.python_name] = list
        elif isinstance(f.type, StrawberryOptional):
            empty[f.python_name] = lambda: None
        elif f.type is int:
            empty[f.python_name] = int
        else:
            raise TypeError(f"{definition.name}.{f.name} cannot be empty in a refusal: make "
                            "it optional or a list")
    return lambda errors: payload_type(**{k: make() for k, make in empty.items()},
                                       user_errors=errors)


class Authorize(FieldExtension):
    """The rule of one root field, from ENTRY_POINTS."""

    def __init__(self, type_name: str, field_name: str) -> None:
        self.type_name, self.field_name = type_name, field_name
        self.refused: Any = None
        self.argument_names: dict[str, str] = {}  # Python name -> GraphQL name

    def apply(self, field: StrawberryField) -> None:
        if self.type_name == "Mutation":
            self.refused = _refusal_payload(field.type)
        names = NameConverter()
        self.argument_names = {a.python_name: names.get_graphql_name(a)
                               for a in field.arguments}

    def _fresh_reads(self, info: Any) -> None:
        if self.type_name == "Mutation":
            info.context.fresh_loaders()

    def _check(self, info: Any, kwargs: dict[str, Any]
               ) -> tuple[dict[str, Any], list[UserError] | None]:
        try:
            access.authorize_entry(info.context.principal, self.type_name, self.field_name)
            return clean_arguments(kwargs, self.argument_names), None
        except DomainError as exc:
            if self.refused is None:
                raise
            return kwargs, [UserError.from_domain(exc)]

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        kwargs, errors = self._check(info, kwargs)
        if errors:
            return self.refused(errors)
        self._fresh_reads(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        kwargs, errors = self._check(info, kwargs)
        if errors:
            return self.refused(errors)
        self._fresh_reads(info)
        result = next_(source, info, **kwargs)
        return await result if hasattr(result, "__await__") else result


def guard(*root_types: type) -> None:
    """Give every root field its Authorize extension (once: types outlive schemas)."""
    names = NameConverter()
    for root in root_types:
        definition = get_object_definition(root, strict=True)
        for f in definition.fields:
            if not any(isinstance(e, Authorize) for e in f.extensions):
                f.extensions.append(Authorize(definition.name, names.get_graphql_name(f)))

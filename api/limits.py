"""Request limits checked before anything runs: the document's shape, page sizes, input list
lengths and the query's cost.

Two checks, both before execution:
- `shape_rule` is a graphql-core validation rule over the document alone (so strawberry's
  validation cache keeps its verdict): depth and aliases of every operation, following
  fragments once each (memoised, so a "fragment bomb" costs linear time) and refusing a
  circular fragment instead of following it;
- `measure` needs the variables: the cost of the operation that will run (an object costs 1; a
  field with `first` multiplies what is under it by `first`, by the default page size when it
  is omitted; a field taking a batch multiplies it by the batch's length), `first` at most
  `max_page`, every input list at most `max_list` items and a batch (`BATCHES`) at most
  `max_batch`.
The token cap is the parser's own (`parse(max_tokens=…)`), set by `api.guard.RequestGuard`.
Each refusal is a GraphQL error with its own `extensions.code`.

Why not strawberry's QueryDepthLimiter / MaxAliasesLimiter: both walk a fragment again at
every spread, so a document of 22 fragments each spreading the next twice takes seconds (and
30 fit in the token cap), their errors carry no code, and the depth limiter fails with a
KeyError on a spread of an unknown fragment instead of letting validation report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    value_from_ast_untyped,
)

DEPTH = "MAX_DEPTH_EXCEEDED"
ALIASES = "MAX_ALIASES_EXCEEDED"
TOKENS = "MAX_TOKENS_EXCEEDED"
CIRCULAR = "CIRCULAR_FRAGMENT"
COST = "MAX_COST_EXCEEDED"
PAGE = "PAGE_SIZE_EXCEEDED"
LIST = "INPUT_LIST_TOO_LONG"
MAX_FRAGMENT_NESTING = 32  # a chain of spreads this long is an attack, not a client
# Input lists whose items are each a request of their own (an order of placeOrders, from a
# marketplace or an ERP feed): longer than other lists may be (`max_batch`), and the field
# taking one costs what it selects once per item, as a connection does once per `first`, so
# the rate limit counts every order a batch places.
BATCHES = frozenset({"PlaceOrdersInput.orders"})


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (PROMESSA_MAX_* settings)."""

    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 5000
    max_page: int = 100
    default_page: int = 20
    max_list: int = 250
    max_batch: int = 500  # items of a batch list (BATCHES)


def refusal(message: str, code: str, node: Any = None, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, nodes=node, extensions={"code": code, **extensions})


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)}


class _Shape:
    """Depth and alias count of selection sets, each fragment measured once."""

    def __init__(self, document: DocumentNode, limits: Limits) -> None:
        self.fragments = _fragments(document)
        self.limits = limits
        self.memo: dict[str, tuple[int, int]] = {}
        self.visiting: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None, level: int) -> tuple[int, int]:
        if selection_set is None:
            return 0, 0
        if level > self.limits.max_depth:  # known to be too deep: stop descending
            return 1, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                d, a = self.measure(selection.selection_set, level + 1)
                depth, aliases = max(depth, d + 1), aliases + a + (selection.alias is not None)
            elif isinstance(selection, InlineFragmentNode):
                d, a = self.measure(selection.selection_set, level)
                depth, aliases = max(depth, d), aliases + a
            elif isinstance(selection, FragmentSpreadNode):
                d, a = self.fragment(selection, level)
                depth, aliases = max(depth, d), aliases + a
        return depth, aliases

    def fragment(self, spread: FragmentSpreadNode, level: int) -> tuple[int, int]:
        name = spread.name.value
        if name in self.memo:
            return self.memo[name]
        if name in self.visiting:
            raise _Refused(refusal(f"fragment '{name}' spreads itself", CIRCULAR, spread))
        if len(self.visiting) >= MAX_FRAGMENT_NESTING:
            raise _Refused(refusal(f"fragments spread within each other more than "
                                   f"{MAX_FRAGMENT_NESTING} deep", DEPTH, spread))
        definition = self.fragments.get(name)
        if definition is None:  # KnownFragmentNamesRule reports it
            return 0, 0
        self.visiting.add(name)
        # measured from level 0 so the memo holds whatever the spread's level
        measured = self.memo[name] = self.measure(definition.selection_set, 0)
        self.visiting.discard(name)
        return measured


def document_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Depth, aliases and circular fragments of every operation in `document`."""
    shape = _Shape(document, limits)
    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        try:
            depth, aliases = shape.measure(operation.selection_set, 0)
        except _Refused as refused:
            return [refused.error]
        if depth > limits.max_depth:
            errors.append(refusal(f"the query is nested deeper than {limits.max_depth} levels",
                                  DEPTH, operation, limit=limits.max_depth))
        if aliases > limits.max_aliases:
            errors.append(refusal(f"{aliases} aliases; at most {limits.max_aliases} are allowed",
                                  ALIASES, operation, limit=limits.max_aliases))
    return errors


def shape_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule refusing documents too deep, with too many aliases, or circular."""

    class DocumentShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for error in document_errors(context.document, limits):
                context.report_error(error)

    return DocumentShapeRule


class _Cost:
    """The cost of one operation under its variables; checks page sizes and input lists."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any], limits: Limits) -> None:
        self.schema, self.variables, self.limits = schema, variables, limits
        self.fragments = _fragments(document)
        self.memo: dict[str, int] = {}
        self.lists = _Lists(variables, limits)

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.memo:
            definition = self.fragments.get(name)
            self.memo[name] = 0  # validation refused cycles; this only guards the recursion
            if definition is not None:
                on = self.schema.get_type(definition.type_condition.name.value)
                self.memo[name] = self.selections(definition.selection_set, on)
        return self.memo[name]

    def field(self, node: FieldNode, parent: Any) -> int:
        fields = (parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                  else {})
        definition = fields.get(node.name.value)
        batch = 0
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value) if definition else None
            batch = max(batch, self.lists.check(argument.value,
                                                declared.type if declared else None, argument))
        if definition is None or not is_composite_type(get_named_type(definition.type)):
            return 0  # scalars, enums, __typename and introspection are free
        selected = self.selections(node.selection_set, get_named_type(definition.type))
        if batch:  # every item is work, even when only scalars are asked back
            return 1 + batch * max(selected, 1)
        multiplier = 1
        if "first" in definition.args:
            multiplier = self.page(node, definition.args["first"].default_value)
        return 1 + multiplier * selected

    def page(self, node: FieldNode, default: Any) -> int:
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = self.value(argument.value)
                break
        if value is None:
            value = default if isinstance(default, int) else self.limits.default_page
        if not isinstance(value, int) or isinstance(value, bool):
            return self.limits.default_page  # coercion reports it when the field runs
        if not 0 <= value <= self.limits.max_page:
            raise _Refused(refusal(f"first must be between 0 and {self.limits.max_page}",
                                   PAGE, node, limit=self.limits.max_page))
        return value

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        return None


class _Lists:
    """The length of every input list, literal or from a variable, by where it sits: a batch
    (`BATCHES`) may hold `max_batch` items, any other list `max_list`."""

    def __init__(self, variables: Mapping[str, Any], limits: Limits) -> None:
        self.variables, self.limits = variables, limits

    def check(self, value: Any, kind: Any, node: Any = None) -> int:
        """Raise _Refused for a list too long in `value` (of input type `kind`, None when
        unknown); answer the length of the longest batch in it, 0 when it has none."""
        longest = 0
        stack = [(value, kind, self.limits.max_list, False)]
        while stack:
            item, kind, limit, batch = stack.pop()
            if isinstance(item, VariableNode):
                item = self.variables.get(item.name.value)
            kind = get_nullable_type(kind) if kind is not None else None
            if (items := _items(item)) is not None:
                if len(items) > limit:
                    raise _Refused(refusal(f"an input list has more than {limit} items", LIST,
                                           node, limit=limit))
                longest = max(longest, len(items)) if batch else longest
                inner = kind.of_type if isinstance(kind, GraphQLList) else None
                stack.extend((x, inner, self.limits.max_list, False) for x in items)
            elif (members := _members(item)) is not None:
                stack.extend(self._member(kind, name, x) for name, x in members.items())
        return longest

    def _member(self, kind: Any, name: str, value: Any) -> tuple[Any, Any, int, bool]:
        """One field of an input object, with its type and the length its lists may have."""
        declared = kind.fields.get(name) if isinstance(kind, GraphQLInputObjectType) else None
        if declared is None:
            return value, None, self.limits.max_list, False
        batch = f"{kind.name}.{name}" in BATCHES
        return (value, declared.type, self.limits.max_batch if batch else self.limits.max_list,
                batch)


def _items(value: Any) -> list[Any] | None:
    """The items of a list, literal (a ListValueNode) or from the variables."""
    if isinstance(value, ListValueNode):
        return list(value.values)
    return value if isinstance(value, list) else None


def _members(value: Any) -> dict[str, Any] | None:
    """The fields of an input object, literal (an ObjectValueNode) or from the variables."""
    if isinstance(value, ObjectValueNode):
        return {f.name.value: f.value for f in value.fields}
    return value if isinstance(value, dict) else None


def measure(schema: GraphQLSchema, document: DocumentNode,
            operation: OperationDefinitionNode, variables: Mapping[str, Any] | None,
            limits: Limits) -> int:
    """The cost of `operation`; raises the refusal (a GraphQLError) when a limit is passed."""
    # a variable the request leaves out takes its default: price what will run
    defaults = {d.variable.name.value: value_from_ast_untyped(d.default_value)
                for d in operation.variable_definitions or () if d.default_value is not None}
    variables = {**defaults, **(variables or {})}
    cost = _Cost(schema, document, variables, limits)
    # a declared variable is checked where it is used (validation refused unused ones), typed
    # by its place; one the operation does not declare is checked all the same
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    root = schema.get_root_type(operation.operation)
    try:
        for name, value in variables.items():
            if name not in declared:
                cost.lists.check(value, None)
        total = cost.selections(operation.selection_set, root)
    except _Refused as refused:
        raise refused.error from None
    if total > limits.max_cost:
        raise refusal(f"the query costs {total}; at most {limits.max_cost} is allowed", COST,
                      operation, cost=total, limit=limits.max_cost)
    return total

"""YAML assessment files: text -> plain data, read safely and exactly.

96.5 is Decimal("96.5"), keys like 5.1 stay as written, dates stay text. Composition counts
aliases, nesting depth and the node count once aliases are expanded (a "billion laughs"
document is refused before anything is built from it); duplicate keys in one mapping are
refused with both lines. Every refusal is a `Refused` with the line and column; the batch
module turns it into a `ReadError` naming the file. Imported only when a YAML file is read.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml

from scoredsl.limits import DATA_NESTING, YAML_ALIASES, YAML_NODES, Refused


def load(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_DecimalLoader)
    except (ValueError, TypeError, LookupError, ArithmeticError) as exc:  # `!!int abc`
        raise Refused(f"invalid YAML: a value cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise Refused(f"invalid YAML: {problem}", line, column) from None


_MERGE = "tag:yaml.org,2002:merge"
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


class _DecimalLoader(yaml.SafeLoader):
    """YAML where 96.5 is Decimal("96.5") and keys like 5.1 stay as written.

    Composition counts: aliases, nesting depth, and the node count once aliases are
    expanded (a "billion laughs" document is refused before anything is built from it).
    Duplicate keys in one mapping are refused with both lines.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > YAML_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise Refused(
                    f"more than {YAML_ALIASES} aliases (*name) in one document",
                    mark.line + 1,
                    mark.column + 1,
                )
        self._depth += 1
        try:
            if self._depth > DATA_NESTING:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise Refused(
                    f"nested more than {DATA_NESTING} levels deep", mark.line + 1, mark.column + 1
                )
            node: yaml.Node = super().compose_node(parent, index)  # type: ignore[assignment]
            return node
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node) > YAML_NODES:
            raise Refused(
                f"its aliases expand to more than {YAML_NODES} values", node.start_mark.line + 1, 1
            )
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
                line = key.start_mark.line + 1
                first = seen.get((key.tag, key.value))
                seen[(key.tag, key.value)] = line
                if first is not None:
                    raise Refused(
                        f"duplicate key '{key.value}' "
                        f"(first at line {first}, again at line {line})",
                        line,
                        key.start_mark.column + 1,
                    )
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document with every alias expanded, counted without expanding it.

    A value that contains itself (`a: &x [*x]`) expands without end: refused.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose children are being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done or not children:
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[id(node)] = min(total, YAML_NODES + 1)
            open_.discard(id(node))
            continue
        if any(id(c) in open_ or c is node for c in children):
            mark = node.start_mark
            raise Refused("a value contains itself (an alias inside its own anchor)",
                           mark.line + 1, mark.column + 1)  # fmt: skip
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


def _decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """Decimal notation as Decimal (no int-from-text digit limit); 0x, 0o, 1:30 as YAML says."""
    text = str(loader.construct_scalar(node))
    if _DECIMAL_INT.fullmatch(text):
        return Decimal(text.replace("_", ""))
    return loader.construct_yaml_int(node)


def _text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return str(loader.construct_scalar(node))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)
_DecimalLoader.add_constructor("tag:yaml.org,2002:int", _decimal_int)
_DecimalLoader.add_constructor("tag:yaml.org,2002:timestamp", _text)  # no dates in data

"""Groups: AST with `group` declarations and `every`/`sum` quantifiers -> the same AST
without them, plus the diagnostics only a group can have.

In: a built `Scheme`. Out: a `Scheme` in which

- each `group part { members p1 "1.0" p2 "2.0"  input items: ...  value share = ... }` is
  replaced, where it stands, by ordinary inputs and values, member by member in the order
  written: ``p1_items``, ``p1_share``, ``p2_items``, ... (the member's name, ``_``, the
  declaration's name). Inside the group a declaration's own names (``items``) mean that
  member's (``p1_items``); ``{part}`` in a label is the member's label;
- ``every part in p1..p4 (share >= 100%)`` becomes ``p1_share >= 100% and ... and
  p4_share >= 100%``, ``sum part in p1..p4 (items)`` becomes ``p1_items + ... + p4_items``
  (no range: every member). Inside the parentheses the group's names mean that member's.

Every expanded node keeps the span the user wrote (the declaration inside the group, the
quantifier), so the checks after this stage point at the group form; a level, formula,
requirement or veto that held a quantifier keeps its written text for the plan.

Diagnostics: `empty-group` (a group without members, a range that selects none),
`group-too-large` (nested quantifiers that would expand past `GROUP_EXPANSION_NODES`),
`unknown-group` (a quantifier over a group that is not declared), `unknown-member` (a range
end that is no member of its group), `duplicate-id` (a group or member declared twice).
After an error the expansion goes on (over the closest group, over every member; `true`
or `0` when nothing is close) so that the other checks still run without follow-on noise.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TypeVar

import attrs

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.limits import GROUP_EXPANSION_NODES
from scoredsl.printer import expr as expr_text
from scoredsl.semantics import did_you_mean
from scoredsl.source import Span


def expand_groups(scheme: n.Scheme) -> tuple[n.Scheme, list[Diagnostic]]:
    """The scheme with its groups and quantifiers expanded, and what is wrong with them."""
    declared = [s for s in scheme.body if isinstance(s, n.Group)]
    if not declared and not _quantifies(scheme):
        return scheme, []
    diagnostics = list(_declaration_problems(declared))
    groups: dict[str, n.Group] = {}
    for g in declared:
        groups.setdefault(g.name, g)
    expander = _Expander(groups, diagnostics)
    body: list[n.SchemeStmt] = []
    for stmt in scheme.body:
        if isinstance(stmt, n.Group):
            body.extend(expander.group(stmt))
        else:
            body.append(expander.stmt(stmt))
    return attrs.evolve(scheme, body=tuple(body)), diagnostics


def member_name(member: n.Member, declaration: str) -> str:
    """``p1`` + ``items`` -> ``p1_items``: the name a part's input or value gets."""
    return f"{member.name}_{declaration}"


def _quantifies(scheme: n.Scheme) -> bool:
    """Whether any expression of the scheme holds a quantifier."""
    return any(isinstance(e, n.Quantified) for e in _scheme_exprs(scheme))


def _scheme_exprs(scheme: n.Scheme) -> Iterator[n.Expr]:
    for stmt in scheme.body:
        for root in _stmt_exprs(stmt):
            yield from _walk(root)


def _walk(root: n.Expr) -> Iterator[n.Expr]:
    stack = [root]
    while stack:
        e = stack.pop()
        yield e
        match e:
            case n.Neg(operand) | n.Not(operand):
                stack.append(operand)
            case n.Binary(_, left, right):
                stack += [left, right]
            case n.Compare(operands) | n.Call(_, operands):
                stack += list(operands)
            case n.Quantified():
                stack.append(e.body)


def _stmt_exprs(stmt: object) -> Iterator[n.Expr]:
    match stmt:
        case n.Value(kind=n.Formula(expr)) | n.Item(kind=n.Formula(expr)):
            yield expr
    match stmt:
        case n.Value(body=body) | n.Item(body=body) | n.Gate(body=body) | n.Levels(body=body):
            for sub in body:
                yield from _stmt_exprs(sub)
        case n.Veto(condition) | n.Require(condition) | n.Level(condition=condition):
            yield condition
        case n.Total(formula=formula) if formula is not None:
            yield formula


def _declaration_problems(declared: list[n.Group]) -> Iterator[Diagnostic]:
    first: dict[str, n.Group] = {}
    for g in declared:
        if g.name in first:
            line = first[g.name].name_span.start_position[0]
            yield error("duplicate-id", f"group '{g.name}' is already defined on line {line}",
                        g.name_span)  # fmt: skip
            continue
        first[g.name] = g
        if not g.members:
            yield error(
                "empty-group",
                f"group '{g.name}' has no members",
                g.name_span,
                'list its parts: members p1 "1.0" p2 "2.0" ... (its inputs are then '
                "p1_<name>, p2_<name>, ...)",
            )
        seen: dict[str, n.Member] = {}
        for m in g.members:
            if m.name in seen:
                line = seen[m.name].span.start_position[0]
                yield error("duplicate-id",
                            f"member '{m.name}' of group '{g.name}' is already listed on line "
                            f"{line}", m.span)  # fmt: skip
            seen.setdefault(m.name, m)


_Stmt = TypeVar("_Stmt")


@attrs.define
class _Expander:
    groups: dict[str, n.Group]
    diagnostics: list[Diagnostic]
    expanded: int = 0  # nodes the quantifiers expanded to so far
    nesting: int = 0  # quantifiers around the one being expanded

    # ---- declarations -----------------------------------------------------------------

    def group(self, g: n.Group) -> Iterator[n.Input | n.Value]:
        members = list({m.name: m for m in reversed(g.members)}.values())[::-1]
        for member in members:
            env = {d.name: member_name(member, d.name) for d in g.declarations}
            placeholder = "{" + g.name + "}"
            for d in g.declarations:
                label = None if d.label is None else d.label.replace(placeholder, member.label)
                if isinstance(d, n.Input):
                    bound = d.bound
                    if bound is not None and bound.input in env:
                        bound = attrs.evolve(bound, input=env[bound.input])
                    yield attrs.evolve(d, name=env[d.name], label=label, bound=bound)
                else:
                    yield self._value(d, env, label, placeholder, member.label)

    def _value(
        self, v: n.Value, env: dict[str, str], label: str | None, placeholder: str, part: str
    ) -> n.Value:
        kind: n.Formula | n.Lookup = v.kind
        if isinstance(kind, n.Lookup) and kind.input in env:
            kind = attrs.evolve(kind, input=env[kind.input])
        elif isinstance(kind, n.Formula):
            kind = self._formula(kind, env)
        body = tuple(
            attrs.evolve(s, label=s.label.replace(placeholder, part))
            if isinstance(s, n.English)
            else self.stmt(s, env)
            for s in v.body
        )
        return attrs.evolve(v, name=env[v.name], label=label, kind=kind, body=body)

    # ---- statements -------------------------------------------------------------------

    def stmt(self, s: _Stmt, env: dict[str, str] | None = None) -> _Stmt:
        """The statement with the quantifiers in its expressions expanded (and the names
        of `env` renamed); other statements as they are."""
        scope = env or {}
        changes: dict[str, object] = {}
        if isinstance(s, n.Value | n.Item) and isinstance(s.kind, n.Formula):
            kind = self._formula(s.kind, scope)
            if kind is not s.kind:
                changes["kind"] = kind
        if isinstance(s, n.Value | n.Item | n.Gate | n.Levels):
            body = tuple(self.stmt(x, scope) for x in s.body)
            if any(a is not b for a, b in zip(body, s.body, strict=True)):
                changes["body"] = body
        if isinstance(s, n.Total) and s.formula is not None:
            formula = self.expr(s.formula, scope)
            if formula is not s.formula:
                changes["formula"] = formula
        if isinstance(s, n.Veto | n.Require | n.Level):
            condition = self.expr(s.condition, scope)
            if condition is not s.condition:
                changes["condition"] = condition
                changes["written"] = self._written(s.condition, scope)
        return attrs.evolve(s, **changes) if changes else s  # type: ignore[misc]

    def _formula(self, f: n.Formula, env: dict[str, str]) -> n.Formula:
        expanded = self.expr(f.expr, env)
        if expanded is f.expr:
            return f
        return attrs.evolve(f, expr=expanded, written=self._written(f.expr, env))

    def _written(self, e: n.Expr, env: dict[str, str]) -> str | None:
        """The text the plan keeps for an expression with a quantifier: as written, with a
        member's names (``p1_items`` for ``items``) outside the quantifiers; None without
        one (the expansion's own text is then the written one)."""
        if not any(isinstance(x, n.Quantified) for x in _walk(e)):
            return None
        return expr_text(_Expander({}, []).expr(e, env, expand=False))

    # ---- expressions ------------------------------------------------------------------

    def expr(self, e: n.Expr, env: dict[str, str], expand: bool = True) -> n.Expr:
        """`e` with its quantifiers expanded (unless not `expand`: then kept as written) and
        the names of `env` renamed; `e` itself (the same object) when nothing changes."""
        match e:
            case n.Name(name) if name in env:
                return attrs.evolve(e, name=env[name])
            case n.Neg(operand) | n.Not(operand):
                inner = self.expr(operand, env, expand)
                return e if inner is operand else attrs.evolve(e, operand=inner)
            case n.Binary(_, left, right):
                a, b = self.expr(left, env, expand), self.expr(right, env, expand)
                return e if (a is left and b is right) else attrs.evolve(e, left=a, right=b)
            case n.Compare(operands) | n.Call(_, operands):
                new = tuple(self.expr(o, env, expand) for o in operands)
                if all(x is y for x, y in zip(new, operands, strict=True)):
                    return e
                if isinstance(e, n.Compare):
                    return attrs.evolve(e, operands=new)
                return attrs.evolve(e, args=new)
            case n.Weighted(terms):
                renamed = tuple(
                    attrs.evolve(t, ref=attrs.evolve(t.ref, name=env[t.ref.name]))
                    if isinstance(t.ref, n.Name) and t.ref.name in env
                    else t
                    for t in terms
                )
                changed = any(x is not y for x, y in zip(renamed, terms, strict=True))
                return attrs.evolve(e, terms=renamed) if changed else e
            case n.Quantified() if expand:
                return self._quantified(e, env)
        return e

    def _quantified(self, q: n.Quantified, env: dict[str, str]) -> n.Expr:
        neutral: n.Expr = n.Bool(True, q.span) if q.kind == "every" else n.Number(0, q.span)  # type: ignore[arg-type]
        group = self.groups.get(q.group)
        if group is None:
            self.diagnostics.append(
                error(
                    "unknown-group",
                    f"'{q.group}' is not a group of this scheme",
                    q.group_span,
                    *did_you_mean(q.group, self.groups),
                )
            )
            # go on as if the closest group was meant, so its names are not reported unused
            close = difflib.get_close_matches(q.group, list(self.groups), n=1, cutoff=0.6)
            if not close:
                return neutral
            group = self.groups[close[0]]
        members = self._selected(q, group)
        if not members:
            return neutral
        size = len(members) * self._expanded_size(q.body)
        if self.nesting == 0:  # the outermost quantifier counts for the ones inside it
            if self.expanded + size > GROUP_EXPANSION_NODES:
                self.diagnostics.append(
                    error(
                        "group-too-large",
                        f"this {q.kind} over '{group.name}' would expand to {size:,} terms"
                        + (
                            f" (and the ones before it to {self.expanded:,})"
                            if self.expanded
                            else ""
                        )
                        + f", more than the {GROUP_EXPANSION_NODES:,} a scheme's quantifiers "
                        "may expand to",
                        q.span,
                        "quantifiers inside quantifiers multiply: take the inner one out "
                        "into a value of its own",
                    )
                )
                return neutral
            self.expanded += size
        terms = []
        self.nesting += 1
        for member in members:
            inner = dict(env)
            inner.update({d.name: member_name(member, d.name) for d in group.declarations})
            terms.append(self.expr(q.body, inner))
        self.nesting -= 1
        joined = _join("and" if q.kind == "every" else "+", terms, q.span)
        if len(terms) == 1 and isinstance(joined, n.Binary | n.Compare | n.Not | n.Neg):
            joined = attrs.evolve(joined, span=q.span)
        return joined

    def _expanded_size(self, e: n.Expr) -> int:
        """How many nodes `e` becomes once its quantifiers are expanded (at most)."""
        if isinstance(e, n.Quantified):
            group = self.groups.get(e.group)
            count = len(group.members) if group is not None else 1
            return 1 + max(count, 1) * self._expanded_size(e.body)
        children: list[n.Expr] = []
        match e:
            case n.Neg(operand) | n.Not(operand):
                children = [operand]
            case n.Binary(_, left, right):
                children = [left, right]
            case n.Compare(operands) | n.Call(_, operands):
                children = list(operands)
        return 1 + sum(self._expanded_size(c) for c in children)

    def _selected(self, q: n.Quantified, group: n.Group) -> list[n.Member]:
        members = group.members
        if not members:
            return []  # `empty-group` is reported at the group
        if q.first is None or q.last is None:
            return list(members)
        names = [m.name for m in members]
        unknown = False
        for end, span in ((q.first, q.first_span), (q.last, q.last_span)):
            if end not in names:
                unknown = True
                self.diagnostics.append(
                    error(
                        "unknown-member",
                        f"'{end}' is not a member of group '{group.name}' "
                        f"(its members are {', '.join(names)})",
                        span or q.span,
                        *did_you_mean(end, names),
                    )
                )
        if unknown:
            return list(members)  # go on over every member: the error stops lowering anyway
        low, high = names.index(q.first), names.index(q.last)
        if low > high:
            self.diagnostics.append(
                error(
                    "empty-group",
                    f"{q.first}..{q.last} selects no member of group '{group.name}': "
                    f"{q.first} comes after {q.last}",
                    q.span,
                    f"write {q.last}..{q.first}",
                )
            )
            return list(members)  # go on over every member, as after an unknown member
        return list(members[low : high + 1])


_CHAIN = 16  # up to this many members a quantifier is the chain one writes by hand


def _join(op: str, terms: list[n.Expr], span: Span) -> n.Expr:
    """``t1 op t2 op ... op tk``: folded from the left as written by hand (so a scheme
    rewritten with a group keeps its plan), halved into a balanced tree for a large group
    (so that the expression stays shallow for the checks and both engines)."""
    if len(terms) > _CHAIN:
        middle = len(terms) // 2
        return n.Binary(op, _join(op, terms[:middle], span), _join(op, terms[middle:], span), span)
    joined = terms[0]
    for term in terms[1:]:
        joined = n.Binary(op, joined, term, span)
    return joined

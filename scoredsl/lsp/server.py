"""Server: the language server protocol over stdio (pygls) -> the loader, checks and fmt.

Each open document is loaded from the editor's text on open and on every change (only
an `extends` parent is read from disk) and its diagnostics are published at once: the
same codes, messages and hints as `scoredsl check`, with ranges in the position units the
client asked for (UTF-16 by default). The requests (hover, definition, references,
symbols, completion, formatting, code actions) read the last analysis of the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from scoredsl import __version__
from scoredsl.diagnostics import Diagnostic, Severity
from scoredsl.fmt import FormatError, format_source
from scoredsl.loader import Loaded, load, load_text
from scoredsl.lsp.edits import Edit, acknowledge, did_you_mean
from scoredsl.lsp.positions import Positions
from scoredsl.lsp.symbols import Index, Outline, extends_span, keywords, outline, parent_path
from scoredsl.source import Source, Span

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.NOTE: lsp.DiagnosticSeverity.Information,
}
_SYMBOL_KIND = {
    "scheme": lsp.SymbolKind.Module,
    "input": lsp.SymbolKind.Variable,
    "value": lsp.SymbolKind.Function,
    "gate": lsp.SymbolKind.Interface,
    "item": lsp.SymbolKind.Class,
    "levels": lsp.SymbolKind.Enum,
    "level": lsp.SymbolKind.EnumMember,
    "example": lsp.SymbolKind.Event,
}


@attrs.frozen
class Analysis:
    """One version of an open document: its load, and the names of its last good parse."""

    uri: str
    loaded: Loaded
    index: Index | None
    diagnostics: list[Diagnostic]  # the document's own and its extends parent's


class ScoreServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("scoredsl", __version__)
        self.analyses: dict[str, Analysis] = {}

    @property
    def encoding(self) -> str:
        found = self.workspace.position_encoding
        return str(getattr(found, "value", found) or "utf-16")

    def positions(self, source: Source) -> Positions:
        return Positions(source, self.encoding)

    def range(self, span: Span) -> lsp.Range:
        where = self.positions(span.source)
        start, end = where.position(span.start), where.position(span.end)
        return lsp.Range(lsp.Position(*start), lsp.Position(*end))

    def location(self, analysis: Analysis, span: Span) -> lsp.Location:
        own = span.source is analysis.loaded.source
        uri = analysis.uri if own else from_fs_path(span.source.path) or span.source.path
        return lsp.Location(uri, self.range(span))

    def offset(self, analysis: Analysis, position: lsp.Position) -> int:
        return self.positions(analysis.loaded.source).offset(position.line, position.character)

    def analyse(self, uri: str) -> Analysis:
        text = self.workspace.get_text_document(uri).source
        loaded = load_text(text, to_fs_path(uri) or uri)
        if loaded.scheme is not None:
            index: Index | None = Index(loaded.scheme, loaded.source)
        else:  # while a syntax error is being fixed, names come from the last good parse
            previous = self.analyses.get(uri)
            index = previous.index if previous else None
        analysis = Analysis(uri, loaded, index, loaded.diagnostics + _parent_diagnostics(loaded))
        self.analyses[uri] = analysis
        return analysis

    def publish(self, analysis: Analysis) -> None:
        shown = [self.diagnostic(analysis, d) for d in _unique(analysis.diagnostics)]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(analysis.uri, shown))

    def diagnostic(self, analysis: Analysis, d: Diagnostic) -> lsp.Diagnostic:
        """The protocol's form: hints and the acceptance reason follow the message."""
        lines = [d.message, *(f"help: {h}" for h in d.hints)]
        if d.acknowledged is not None:
            lines.append(f"accepted: {d.acknowledged}")
        severity = _SEVERITY[d.severity]
        if d.acknowledged is not None:
            severity = lsp.DiagnosticSeverity.Information
        source = analysis.loaded.source
        if d.span.source is source:
            where = self.range(d.span)
        else:  # from the extends parent: shown on the extends line, saying where it is
            line, column = d.span.start_position
            lines[0] = f"{d.span.source.path}:{line}:{column}: {d.message}"
            where = self.range(_extends_or_start(analysis.loaded))
        return lsp.Diagnostic(
            where,
            "\n".join(lines),
            severity=severity,
            code=d.code,
            source="scoredsl",
            data={"anchor": d.anchor, "acknowledged": d.acknowledged is not None},
        )


def _extends_or_start(loaded: Loaded) -> Span:
    if loaded.scheme is not None and (span := extends_span(loaded.scheme)) is not None:
        return span
    return Span(loaded.source, 0, 0)


def _parent_diagnostics(loaded: Loaded) -> list[Diagnostic]:
    """The errors and warnings of the extends parent (it is checked as `check` would)."""
    parent = parent_path(loaded.scheme) if loaded.scheme is not None else None
    if parent is None or not parent.is_file() or Path(loaded.source.path).resolve() == parent:
        return []
    return [
        d
        for d in load(parent).diagnostics
        if d.acknowledged is None and d.severity is not Severity.NOTE
    ]


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, int, int, str]] = set()
    out = []
    for d in diagnostics:
        key = (d.span.source.path, d.code, d.span.start, d.span.end, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _overlaps(span: Span, start: int, end: int) -> bool:
    return span.start <= end and span.end >= start


def create_server() -> ScoreServer:
    server = ScoreServer()

    def analysis_of(uri: str) -> Analysis:
        return server.analyses.get(uri) or server.analyse(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ScoreServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.publish(ls.analyse(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ScoreServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.publish(ls.analyse(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ScoreServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.publish(ls.analyse(params.text_document.uri))  # a parent may have changed

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ScoreServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: ScoreServer, params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = analysis_of(params.text_document.uri)
        if analysis.index is None:
            return None
        found = analysis.index.at(ls.offset(analysis, params.position))
        text = analysis.index.hover(found.symbol) if found else None
        if found is None or text is None:
            return None
        markup = lsp.MarkupContent(lsp.MarkupKind.Markdown, text)
        return lsp.Hover(markup, ls.range(found.span))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: ScoreServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        analysis = analysis_of(params.text_document.uri)
        if analysis.index is None:
            return None
        found = analysis.index.at(ls.offset(analysis, params.position))
        span = analysis.index.declaration(found.symbol) if found else None
        return ls.location(analysis, span) if span else None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: ScoreServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        analysis = analysis_of(params.text_document.uri)
        if analysis.index is None:
            return []
        found = analysis.index.at(ls.offset(analysis, params.position))
        if found is None:
            return []
        spans = analysis.index.references(found.symbol, params.context.include_declaration)
        return [ls.location(analysis, s) for s in spans]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(
        ls: ScoreServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol]:
        analysis = analysis_of(params.text_document.uri)
        scheme = analysis.loaded.scheme
        if scheme is None:
            return []
        return [_symbol(ls, o) for o in outline(scheme, analysis.loaded.source)]

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: ScoreServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        source = Source(to_fs_path(uri) or uri, text)
        try:
            formatted, problems = format_source(source)
        except FormatError as exc:
            _refuse(ls, f"scoredsl: not formatted, the formatter could not read back: {exc}")
            return []
        if formatted is None:
            first = problems[0] if problems else None
            where = ":".join(map(str, first.span.start_position)) if first else ""
            why = f" ({where}: {first.message})" if first else ""
            _refuse(ls, f"scoredsl: not formatted, the file has a syntax error{why}")
            return []
        if formatted == text:
            return []
        whole = lsp.Range(lsp.Position(0, 0), lsp.Position(*ls.positions(source).end))
        return [lsp.TextEdit(whole, formatted)]

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION)
    def completion(ls: ScoreServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        analysis = analysis_of(params.text_document.uri)
        return lsp.CompletionList(False, _completions(analysis))

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(ls: ScoreServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        analysis = analysis_of(params.text_document.uri)
        source = analysis.loaded.source
        start = ls.offset(analysis, params.range.start)
        end = ls.offset(analysis, params.range.end)
        actions = []
        for d in analysis.diagnostics:
            if d.span.source is not source or not _overlaps(d.span, start, end):
                continue
            shown = ls.diagnostic(analysis, d)
            for fix in did_you_mean(d):
                actions.append(_action(ls, analysis, fix.title, fix.edit, shown, True))
            edit = None
            if d.acknowledged is None and d.severity is not Severity.NOTE and analysis.index:
                edit = acknowledge(analysis.index.scope, d)
            if edit is not None:
                title = f"Acknowledge this diagnostic: add accept {d.code}"
                actions.append(_action(ls, analysis, title, edit, shown, False))
        return actions

    return server


def _refuse(ls: ScoreServer, message: str) -> None:
    ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Warning, message))


def _action(
    ls: ScoreServer,
    analysis: Analysis,
    title: str,
    edit: Edit,
    diagnostic: lsp.Diagnostic,
    preferred: bool,
) -> lsp.CodeAction:
    span = Span(analysis.loaded.source, edit.start, edit.end)
    change = lsp.TextEdit(ls.range(span), edit.text)
    return lsp.CodeAction(
        title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=preferred,
        edit=lsp.WorkspaceEdit(changes={analysis.uri: [change]}),
    )


def _symbol(ls: ScoreServer, entry: Outline) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=entry.name,
        detail=entry.detail,
        kind=_SYMBOL_KIND[entry.kind],
        range=ls.range(entry.span),
        selection_range=ls.range(entry.selection),
        children=[_symbol(ls, c) for c in entry.children],
    )


def _completions(analysis: Analysis) -> list[lsp.CompletionItem]:
    kind = lsp.CompletionItemKind
    out = [lsp.CompletionItem(k, kind=kind.Keyword) for k in keywords()]
    if analysis.index is None:
        return out
    scope = analysis.index.scope
    out += [
        lsp.CompletionItem(name, kind=kind.Variable, detail=_detail(inp.type, inp.label))
        for name, inp in scope.inputs.items()
    ]
    out += [
        lsp.CompletionItem(name, kind=kind.Function, detail=_detail("value", value.label))
        for name, value in scope.values.items()
    ]
    out += [
        lsp.CompletionItem(item_id, kind=kind.Field, detail=item.label)
        for item_id, item in scope.items.items()
    ]
    out += [
        lsp.CompletionItem(name, kind=kind.EnumMember, detail=level.label)
        for name, level in scope.levels.items()
    ]
    return out


def _detail(what: str, label: str | None) -> str:
    return f"{what} {label}" if label else what


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    server: Any = create_server()
    server.start_io()

"""Language server: an open document -> diagnostics, hover, definitions, edits (LSP).

`positions`, `symbols` and `edits` are plain functions over the loader's output (the AST,
its spans and diagnostics) and import nothing outside scoredsl; `server` puts them on the
protocol with pygls, which is an optional extra (``scoredsl[lsp]``): importing this
package does not import pygls.
"""

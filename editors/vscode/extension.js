// scoredsl for VS Code: starts `scoredsl lsp` (the language server, on stdio) for .score
// files. The server does the work: diagnostics, hover, definitions, references, outline,
// formatting, completion and quick fixes. Install it with: pip install 'scoredsl[lsp]'.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("scoredsl.server");
  const server = {
    command: settings.get("command", "scoredsl"),
    args: settings.get("args", ["lsp"]),
  };
  const options = {
    documentSelector: [
      { scheme: "file", language: "scoredsl" },
      { scheme: "untitled", language: "scoredsl" },
    ],
  };
  client = new LanguageClient("scoredsl", "scoredsl language server", server, options);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

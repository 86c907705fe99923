#!/usr/bin/env bash
# Test the TextMate grammar on lines of the shipped schemes (tests/*.test.score), with
# vscode-tmgrammar-test, installed exactly as package-lock.json pins it.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
npx --no-install vscode-tmgrammar-test -g syntaxes/scoredsl.tmLanguage.json 'tests/*.test.score'

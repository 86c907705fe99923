"""Render: `Plan` / `Result` -> text for people (terminal text; Markdown and HTML later)."""

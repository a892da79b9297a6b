"""Conversations in SQLite: schema, full-text search, Markdown export."""

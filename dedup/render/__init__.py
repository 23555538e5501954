"""Renderers, all from the edit records: JSON Lines (``jsonl``), and the reports (``report``):
Markdown, HTML, unified diff and the terminal view."""

"""Renderers: edit records and clusters as JSON Lines (more formats build on the same records)."""

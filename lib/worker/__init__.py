"""Sandboxed model workers."""

"""See admin/__init__.py."""

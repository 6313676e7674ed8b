"""Demo content for the example site, loaded by ``manage.py load_demo``."""

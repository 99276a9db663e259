"""Settings panels, one module each; ui/settings/page.py lists them."""

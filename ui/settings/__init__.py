"""Settings panels, one module each; ui/pages/settings.py lists them."""

"""The main window\x27s sections, one module each."""

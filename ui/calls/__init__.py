"""Call screens: the caller-ID popups and their controller, the tray, the call log page."""

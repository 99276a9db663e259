"""The office's people and shared work: sign-in, roles, audit log, hand-over."""

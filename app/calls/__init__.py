"""The call log: manual logging, handled/unhandled, labels. Caller ID (devices, decoders, the live call path) lives beside it in app/callerid/."""

"""Caller ID: sources (modem, NCID, multi-line boxes, simulator) → decoders → CallerIdEvent → service → popup."""

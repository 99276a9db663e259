"""SMS and email to customers: providers, templates, the outbox, segments and automatic messages.

    app/sms/encoding.py     GSM-7 / UCS-2, character counts and number of parts
    app/sms/pdu.py          SMS-SUBMIT PDUs for GSM modems (3GPP 23.040), concatenated parts with UDH
    app/sms/providers/      Kavenegar, sms.ir, Melipayamak, Ghasedak, IPPanel, a GSM modem: one interface
    app/sms/templates.py    merge fields and the preview
    app/sms/segments.py     who receives a group send
    app/sms/service.py      the outbox: queue, deliver (written before sent), resume, status, replies, opt-outs
    app/sms/outbox.py       the outbox screen: filters, rows, send again (never twice to one number), mark
    app/sms/automatic.py    birthdays, anniversaries, cheques, invoices, missed calls; the send window
    app/sms/config.py       the SMS settings, saved together (the key is written, never read back to a screen)
    app/sms/email.py        SMTP
    app/sms/cli.py          `crm sms …`
"""

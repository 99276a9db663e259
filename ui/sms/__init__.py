"""SMS and email screens: one message (send_sms_dialog; one email: email_dialog.send_email_dialog), group send
by SMS or email, the segment builder, templates, settings (SMS, and email_settings.py),
the «پیامک» section with the outbox (page.py), and the automatic messages' timer (auto_timer.py).

The caller-ID popup and the missed-calls list open `send_sms_dialog(parent, customer_id=…, number=…)`."""
from ui.sms.send_dialog import SendSmsDialog, send_sms_dialog

__all__ = ["SendSmsDialog", "send_sms_dialog"]

"""Run by test_email in a subprocess: open the database and send a group email (the test kills it with -9)."""
import sys

from app.sms import email
from models.connection import open_database

open_database(sys.argv[1])
email.deliver_group(int(sys.argv[2]))
print("done", flush=True)

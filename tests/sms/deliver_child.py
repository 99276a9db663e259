"""Run by test_outbox in a subprocess: open the database and deliver the queue (the test kills it with -9)."""
import sys

from app.sms import service
from models.connection import open_database

open_database(sys.argv[1])
service.deliver()
print("done", flush=True)

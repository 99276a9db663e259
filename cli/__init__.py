"""The command line (`crm VERB`): argument parsing and printing; the work is done by app/ services."""

"""Reports and the dashboard's figures."""

"""`paygentic-usage`, the command line of paygentic_client (needs the `cli` extra for its
progress bar): `paygentic-usage import FILE` sends a CSV or NDJSON file of usage events."""

"""The audit service: a FastAPI layer over `auditor`, with its results kept in a database."""

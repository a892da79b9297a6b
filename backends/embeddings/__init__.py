"""Text embeddings: one protocol (protocol.py), engines per runtime (a server's /v1/embeddings)."""

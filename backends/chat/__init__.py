"""Chat: engines (one module per runtime), the answer session, transcripts.

See backends.registry for how an engine is picked.
"""

"""Chat: engines (one module per runtime), the answer session and transcripts; see backends.registry for how an engine is picked."""

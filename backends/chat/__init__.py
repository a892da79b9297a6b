"""Chat engines, one module per runtime; see backends.registry for how one is picked."""

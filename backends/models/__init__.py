"""What models are on disk and which one is loaded: catalog, manager, GGUF reading, cache inventory."""

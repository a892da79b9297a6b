"""Models on disk and the loaded one: catalog, manager, GGUF reading, cache inventory."""

"""The Images screen, its form and queue, and the gallery."""

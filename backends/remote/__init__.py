"""Talking to servers the user already runs: one HTTP client recipe, the capability probe,
the background prober, a small WebSocket client for ComfyUI's progress feed."""

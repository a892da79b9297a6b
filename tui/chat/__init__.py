"""The chat feature: its screen, the conversation list, and the widgets only they use."""

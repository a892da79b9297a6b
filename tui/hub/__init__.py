"""The Hub feature: search, model cards, downloads, the token prompt and the disk cache screen."""

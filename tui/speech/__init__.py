"""Speech: the Speech screen (F6) and push-to-talk in the chat prompt."""

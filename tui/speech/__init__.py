"""Speech: the Speech screen (F7) and push-to-talk in the chat prompt."""

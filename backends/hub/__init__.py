"""The Hugging Face Hub: client, search, model info, token, transport, errors, downloads."""

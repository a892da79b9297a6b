"""The Hugging Face Hub: client, search, model info, token, transport, error map, downloads and their queue."""

"""One widget per file, each with its messages nested in it."""

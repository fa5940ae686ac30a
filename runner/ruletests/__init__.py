"""Rule unit tests (`campaign-guard test`): fixture rows, a moment, and exactly the problems expected."""

"""The state store: problems and their events, runs, check-result history and the outbound switch."""

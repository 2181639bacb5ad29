"""Qt models over the engine's plan."""

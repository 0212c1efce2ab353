"""The bottom layer: the neutral event model and Channel interface, settings, the clock and text normalisation.

Everything else may import it; it imports nothing of the project."""

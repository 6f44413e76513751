"""Octopush Studio: workflows that make the platform act on its own (triggers, steps, durable runs)."""

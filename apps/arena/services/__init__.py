"""Writes of the arena, one module per concern: `battles`, `votes`, `leaderboard`."""

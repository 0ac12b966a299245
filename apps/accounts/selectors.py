"""Reads for a signed-in user's own pages; other apps are read through their selectors."""

from dataclasses import dataclass

from apps.arena import selectors as arena_selectors
from apps.lab import selectors as lab_selectors


@dataclass(frozen=True)
class Profile:
    votes: arena_selectors.VoterRecord
    lab_runs: list


def profile_for(user) -> Profile:
    """What the profile page shows: the user's vote record and newest Lab runs."""
    return Profile(
        votes=arena_selectors.voter_record(user.pk),
        lab_runs=lab_selectors.runs_of_user(user.pk),
    )

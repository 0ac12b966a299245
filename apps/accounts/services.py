"""Writes of accounts beyond what allauth does itself."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


@transaction.atomic
def account_delete(*, user) -> None:
    """Delete `user` with their email addresses and Lab runs (CASCADE). Their arena votes are
    kept for the leaderboard, anonymised: the link to the user is cleared (SET_NULL) and the
    vote's verified mark stays."""
    user_id = user.pk
    user.delete()
    logger.info("account %s deleted at its owner's request", user_id)

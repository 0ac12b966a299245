from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "apps.challenges"
    label = "challenges"

    def ready(self):
        from apps.challenges.models import Category, Challenge
        from rival.cacheversion import bump_on_change

        # A challenge edit or (un)publish changes the pages that list or show it.
        bump_on_change(Challenge, Category)

from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "apps.challenges"
    label = "challenges"

from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "apps.arena"
    label = "arena"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from apps.arena.models import IdentityTerm, LeaderboardSnapshot
        from apps.arena.services.battles import battle_pool_invalidate
        from rival.cacheversion import bump_on_change

        def identity_terms_changed(**kwargs):
            battle_pool_invalidate()

        # Cached battle candidates must not outlive an identity-term edit in admin.
        post_save.connect(identity_terms_changed, sender=IdentityTerm, weak=False)
        post_delete.connect(identity_terms_changed, sender=IdentityTerm, weak=False)
        # Ratings on every page come from the newest snapshot; pruning old ones changes nothing.
        bump_on_change(LeaderboardSnapshot, delete=False)

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self):
        from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider
        from rival.cacheversion import bump_on_change

        # Every public page shows models and creators: an edit makes cached pages stale.
        # Gateways decide which models can run (the arena's live battle offer); they are
        # written by curators only (admin, loaddemo), never by collection or the Lab.
        bump_on_change(AIModel, Provider, Capability, Modality, Gateway)

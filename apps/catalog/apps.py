from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self):
        from apps.catalog.models import AIModel, Capability, Modality, Provider
        from rival.cacheversion import bump_on_change

        # Every public page shows models and creators: an edit makes cached pages stale.
        bump_on_change(AIModel, Provider, Capability, Modality)

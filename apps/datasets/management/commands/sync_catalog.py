from django.core.management.base import BaseCommand, CommandError

from apps.catalog.models import Gateway
from apps.datasets.catalog_sync import catalog_sync
from apps.gateways.clients import GatewayError


class Command(BaseCommand):
    help = "Create and update models from a gateway's /models listing (never deletes)."

    def add_arguments(self, parser):
        parser.add_argument("--gateway", default="openrouter")

    def handle(self, *args, **options):
        gateway = Gateway.objects.filter(name=options["gateway"]).first()
        if gateway is None:
            raise CommandError(f"No gateway named {options['gateway']!r}.")
        try:
            result = catalog_sync(gateway)
        except GatewayError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{gateway.name}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.deprecated)} deprecated."
        )
        for slug in result.deprecated:
            self.stdout.write(f"  deprecated: {slug}")

from pathlib import Path

from django.core.management.base import BaseCommand

from apps.developers import datasets


class Command(BaseCommand):
    help = (
        "Write the open datasets (JSON Lines for import_dataset, CSV.gz and Parquet of "
        "responses and votes, manifest.json) into DIR, each file atomically."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        manifest = datasets.build(directory)
        for item in manifest["files"]:
            self.stdout.write(f"{item['name']}: {item['rows']} rows, {item['bytes']} bytes")

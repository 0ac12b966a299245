from django.db import migrations


def create_gateways(apps, schema_editor):
    Gateway = apps.get_model("catalog", "Gateway")
    Gateway.objects.get_or_create(
        name="demo",
        defaults={"kind": "demo", "max_concurrency": 16, "requests_per_second": 100.0},
    )
    Gateway.objects.get_or_create(
        name="openrouter",
        defaults={
            "kind": "openai",
            "base_url": "https://openrouter.ai/api/v1",
            "base_url_env": "OPENROUTER_BASE_URL",
            "api_key_env": "OPENROUTER_API_KEY",
            "max_concurrency": 8,
            "requests_per_second": 5.0,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_gateways, migrations.RunPython.noop)]

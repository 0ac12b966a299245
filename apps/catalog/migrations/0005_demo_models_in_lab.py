from django.db import migrations


def enable_demo_models(apps, schema_editor):
    """Models already on the free demo gateway stay offered in the Lab, as they were."""
    AIModel = apps.get_model("catalog", "AIModel")
    AIModel.objects.filter(gateway__kind="demo").update(lab_enabled=True)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_aimodel_lab_enabled")]

    operations = [migrations.RunPython(enable_demo_models, migrations.RunPython.noop)]

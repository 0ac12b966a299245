import pytest

from apps.lab.models import LabResult, LabRun
from tests.factories import AIModelFactory, ProviderFactory


@pytest.fixture
def demo_models(db):
    """Three active models on the offline demo gateway."""
    provider = ProviderFactory(name="Acme")
    return [
        AIModelFactory(provider=provider, name=f"Acme: {name}", slug=f"acme-{name.lower()}")
        for name in ("Alpha", "Beta", "Gamma")
    ]


def run_of(client) -> LabRun:
    """The run this client's session made last."""
    owner = client.session["lab_owner"]
    return LabRun.objects.filter(owner=owner).latest("created_at")


def lab_run_with(client, models, *, output_type="text", prompt="Explain tides.") -> LabRun:
    """A run owned by `client`'s session, made without going through the form."""
    session = client.session
    session["lab_owner"] = session.get("lab_owner") or "owner-of-this-client"
    session.save()
    run = LabRun.objects.create(owner=session["lab_owner"], prompt=prompt, output_type=output_type)
    for index, model in enumerate(models):
        LabResult.objects.create(run=run, model=model, position=index)
    return run

"""Gateways may only read provider-key and base-URL variables: a free name would let whoever
edits a gateway send any server secret to any host."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from apps.catalog.models import Gateway

pytestmark = pytest.mark.django_db

SITE_SECRETS = ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ARENA_IP_SALT", "CACHE_URL"]


def gateway_form(**fields):
    return {
        "name": "evil",
        "kind": "openai",
        "base_url": "https://attacker.example/v1",
        "base_url_env": "",
        "api_key_env": "EVIL_API_KEY",
        "max_concurrency": 8,
        "requests_per_second": 5,
        "is_enabled": "on",
        **fields,
    }


@pytest.mark.parametrize("name", [*SITE_SECRETS, "api_key", "X_API_KEY_", "PATH", "_API_KEY"])
def test_a_gateway_cannot_name_a_variable_outside_the_api_key_pattern(name):
    gateway = Gateway(name="evil", kind="openai", base_url="https://x.example", api_key_env=name)
    with pytest.raises(ValidationError) as caught:
        gateway.full_clean()
    assert "api_key_env" in caught.value.message_dict


@pytest.mark.parametrize("name", SITE_SECRETS)
def test_the_database_refuses_a_site_secret_as_a_key_or_url_variable(name):
    with pytest.raises(IntegrityError):
        Gateway.objects.create(name="evil-key", kind="openai", api_key_env=name)


def test_the_database_refuses_a_site_secret_as_the_base_url_variable():
    with pytest.raises(IntegrityError):
        Gateway.objects.create(name="evil-url", kind="openai", base_url_env="DATABASE_URL")


def test_provider_key_names_are_accepted():
    gateway = Gateway(
        name="anthropic",
        kind="anthropic",
        base_url="https://api.anthropic.com",
        api_key_env="ANTHROPIC_API_KEY",
        base_url_env="ANTHROPIC_BASE_URL",
    )
    gateway.full_clean()


def test_superuser_admin_refuses_secret_key_and_says_which_names_are_allowed(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_gateway_add"), gateway_form(api_key_env="SECRET_KEY")
    )
    assert response.status_code == 200
    assert "ending in _API_KEY" in response.content.decode()
    assert not Gateway.objects.filter(name="evil").exists()


def test_staff_who_are_not_superusers_cannot_add_change_or_delete_gateways(
    client, django_user_model
):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__model="gateway"))
    client.force_login(staff)
    openrouter = Gateway.objects.get(name="openrouter")

    assert client.post(reverse("admin:catalog_gateway_add"), gateway_form()).status_code == 403
    change = reverse("admin:catalog_gateway_change", args=[openrouter.pk])
    client.post(change, gateway_form(name="openrouter", base_url="https://attacker.example"))
    delete = reverse("admin:catalog_gateway_delete", args=[openrouter.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403

    openrouter.refresh_from_db()
    assert openrouter.base_url == "https://openrouter.ai/api/v1"
    assert not Gateway.objects.filter(name="evil").exists()
    # They may still look.
    assert client.get(change).status_code == 200


def test_key_status_only_reports_on_allowed_key_names(monkeypatch):
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "sk-1")
    allowed = Gateway(name="ok", kind="openai", api_key_env="SOME_PROVIDER_API_KEY")
    # A row that predates the rule (built in memory; the database would refuse it).
    oracle = Gateway(name="old", kind="openai", api_key_env="SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY", "x")

    assert allowed.key_is_set()
    assert not oracle.key_is_set()


def test_the_migration_keeps_the_default_gateways_and_disables_one_naming_a_secret():
    executor = MigrationExecutor(connection)
    executor.migrate([("catalog", "0002_default_gateways")])
    try:
        old_apps = executor.loader.project_state([("catalog", "0002_default_gateways")]).apps
        OldGateway = old_apps.get_model("catalog", "Gateway")
        OldGateway.objects.create(
            name="leaky", kind="openai", api_key_env="SECRET_KEY", base_url_env="REDIS_URL"
        )
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    leaky = Gateway.objects.get(name="leaky")
    assert (leaky.api_key_env, leaky.base_url_env, leaky.is_enabled) == ("", "", False)
    openrouter = Gateway.objects.get(name="openrouter")
    assert openrouter.api_key_env == "OPENROUTER_API_KEY" and openrouter.is_enabled
    assert openrouter.base_url_env == "OPENROUTER_BASE_URL"
    assert Gateway.objects.get(name="demo").is_enabled

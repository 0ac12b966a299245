from django.apps import AppConfig


class ResponsesConfig(AppConfig):
    name = "apps.responses"
    label = "responses"

    def ready(self):
        from apps.responses.models import Response
        from rival.cacheversion import bump_on_change

        # A response written, published or retired changes the pages that list or show it.
        bump_on_change(Response)

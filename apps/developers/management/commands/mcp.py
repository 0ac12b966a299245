from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Rival's MCP tools over stdio (for MCP clients that launch a command)."

    def handle(self, *args, **options):
        from apps.developers.mcp_server import server

        server.run(transport="stdio")

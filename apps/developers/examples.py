"""The copyable examples on /developers/, for a given site address. The test suite runs
exactly these (curl through a shell, Python through exec, MCP configs through the SDK)."""

import json


def curl_examples(base: str) -> list[tuple[str, str]]:
    return [
        ("The first two models, by name", f'curl -s "{base}/api/v1/models?limit=2"'),
        (
            "Coding challenges that ask for code",
            f'curl -s "{base}/api/v1/challenges?output_type=code&limit=5"',
        ),
        (
            "The newest response, with its reproducibility card",
            f'curl -s "{base}/api/v1/responses?limit=1"',
        ),
        ("The overall leaderboard", f'curl -s "{base}/api/v1/leaderboard"'),
        (
            "Only the headers: ETag, rate limit, CORS",
            f'curl -sI "{base}/api/v1/leaderboard"',
        ),
    ]


def python_example(base: str) -> str:
    return f'''import json
import urllib.request

BASE = "{base}"


def get(url):
    with urllib.request.urlopen(url) as reply:
        return json.load(reply)


# Every listed model, page by page: follow "next" until it is null.
models = []
url = BASE + "/api/v1/models?limit=100"
while url:
    page = get(url)
    models += page["items"]
    url = page["next"]

rated = [m for m in models if m["rating"]]
rated.sort(key=lambda m: -m["rating"]["rating"])
print(f"{{len(models)}} models, {{len(rated)}} rated")
for model in rated[:5]:
    r = model["rating"]
    rank = f"#{{r['rank']}}" if r["rank"] else "provisional"
    print(f"{{rank}} {{model['name']}}: {{r['rating']:.0f}} ± {{r['interval']:.0f}}")
'''


def mcp_configs(base: str) -> dict[str, str]:
    """Client configuration in the `mcpServers` form most MCP clients read."""
    http = {"mcpServers": {"rival": {"type": "http", "url": f"{base}/mcp"}}}
    stdio = {
        "mcpServers": {
            "rival": {
                "command": "python",
                "args": ["manage.py", "mcp"],
                "cwd": "/path/to/rival",
                "env": {"DATABASE_URL": "postgres://…"},
            }
        }
    }
    return {"http": json.dumps(http, indent=2), "stdio": json.dumps(stdio, indent=2)}

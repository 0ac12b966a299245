"""Mixed traffic for the soak scenario (tests/faults/test_soak.py): browsing, comparing, and
arena battles with votes, and the JSON API. Every non-200 answer is a failure."""

import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BATTLE = re.compile(r'name="battle" value="([^"]+)"')
PAGES = ["/", "/models/", "/challenges/", "/leaderboard/", "/creators/", "/sitemap.xml"]
API = ["/api/v1/models", "/api/v1/models/soak-a", "/api/v1/challenges", "/api/v1/leaderboard"]


class Visitor(HttpUser):
    wait_time = between(0, 0.2)

    @task(4)
    def browse(self):
        path = random.choice(PAGES)
        self.client.get(path, name=path)

    @task(2)
    def api(self):
        path = random.choice(API)
        self.client.get(path, name=path, headers={"Accept": "application/json"})

    @task(2)
    def compare(self):
        self.client.get("/compare/soak-a-vs-soak-b/", name="/compare/pair/")

    @task(3)
    def battle_and_vote(self):
        with self.client.get("/arena/", name="/arena/", catch_response=True) as page:
            battle, csrf = BATTLE.search(page.text or ""), CSRF.search(page.text or "")
            if page.status_code != 200 or not battle or not csrf:
                page.failure(f"no battle to vote on ({page.status_code})")
                return
        self.client.post(
            "/arena/vote/",
            name="vote",
            data={
                "battle": battle.group(1),
                "outcome": random.choice(["a", "b", "tie", "both_bad"]),
                "csrfmiddlewaretoken": csrf.group(1),
            },
        )

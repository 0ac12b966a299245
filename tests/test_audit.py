"""scripts/audit.py: `make test`'s pip-audit step fails clearly when it cannot audit."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def audit(tmp_path, **env) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.17.0\n")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    return subprocess.run(
        [
            sys.executable,
            "scripts/audit.py",
            str(requirements),
            "--vulnerability-service",
            "osv",
            "--osv-url",
            f"http://127.0.0.1:{port}/v1/query",
        ],
        cwd=ROOT,
        env={**os.environ, "AUDIT_RETRY_DELAYS": "0,0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_vulnerability_service_is_retried_then_fails_saying_so(tmp_path):
    result = audit(tmp_path)
    assert result.returncode == 2
    assert result.stdout.count("retrying") == 2
    assert "vulnerability service is unreachable after 3 attempts" in result.stdout


def test_a_machine_without_the_service_can_downgrade_it_to_a_loud_warning(tmp_path):
    result = audit(tmp_path, AUDIT_UNREACHABLE="warn")
    assert result.returncode == 0
    assert "dependencies NOT audited" in result.stdout

"""`make test`'s dependency audit: pip-audit on the locked requirements.

Usage: python scripts/audit.py REQUIREMENTS.txt [extra pip-audit arguments]

Outcomes, decided so that CI fails for a reason and never by chance:
- a known vulnerability: exit 1 at once, naming package, version, advisory and fixed versions;
- the vulnerability service unreachable or answering for only some packages (pip-audit then
  "skips" them and would otherwise pass): tried three times (after 5 s and 20 s, or the delays
  in AUDIT_RETRY_DELAYS), then exit 2 saying so. A machine that cannot reach the service at all
  sets AUDIT_UNREACHABLE=warn to get a loud warning and exit 0 instead.
"""

import json
import os
import subprocess
import sys
import time


def run_pip_audit(requirements: str, extra: list[str]) -> tuple[dict | None, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            requirements,
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    try:
        return json.loads(result.stdout), result.stderr
    except json.JSONDecodeError:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        return None, lines[-1] if lines else f"pip-audit exited {result.returncode}"


def main() -> int:
    requirements, extra = sys.argv[1], sys.argv[2:]
    delays = [float(d) for d in os.environ.get("AUDIT_RETRY_DELAYS", "5,20").split(",")]
    problem = ""
    for attempt, delay in enumerate([*delays, None], start=1):
        report, error = run_pip_audit(requirements, extra)
        if report is not None:
            deps = report["dependencies"]
            vulnerable = [d for d in deps if d.get("vulns")]
            if vulnerable:
                print("pip-audit: known vulnerabilities in locked dependencies:")
                for dep in vulnerable:
                    for vuln in dep["vulns"]:
                        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                        print(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
                return 1
            skipped = [d for d in deps if d.get("skip_reason")]
            if not skipped:
                print(f"pip-audit: no known vulnerabilities in {len(deps)} locked packages")
                return 0
            problem = (
                f"{len(skipped)} of {len(deps)} packages could not be checked "
                f"(e.g. {skipped[0]['skip_reason']})"
            )
        else:
            problem = error
        if delay is not None:
            print(f"pip-audit attempt {attempt} failed: {problem}; retrying in {delay:.0f} s")
            time.sleep(delay)
    message = f"pip-audit: the vulnerability service is unreachable after {attempt} attempts: "
    if os.environ.get("AUDIT_UNREACHABLE") == "warn":
        print(f"WARNING {message}{problem}")
        print("WARNING dependencies NOT audited (AUDIT_UNREACHABLE=warn)")
        return 0
    print(f"{message}{problem}\n(set AUDIT_UNREACHABLE=warn on a machine without access to it)")
    return 2


if __name__ == "__main__":
    sys.exit(main())

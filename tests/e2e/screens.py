"""Where browser tests save the screenshots people look at: test-results/screenshots/."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def screenshot(page, name: str, **kwargs) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    return path

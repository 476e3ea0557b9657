"""Swagger UI at /picus/ui/ in a real headless Chromium (Debian's), driven by Playwright.

The page must list every operation of the spec and a "Try it out" of POST /picus/put must
store a document (201). Every request the browser makes is checked: anything not aimed at
the live server is refused and fails the test, so the UI works with no internet (its assets
come from the swagger-ui-bundle package, not a CDN). The screenshot is kept under
test-artifacts/ for people to look at.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from devtools.paths import REPO
from devtools.servers import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def spec_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in openapi/picus.yaml, paths as Swagger UI shows them."""
    spec = yaml.safe_load((REPO / "openapi" / "picus.yaml").read_text())
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile; never a downloaded browser."""
    assert CHROMIUM.exists(), "needs Debian's chromium package (installed by .ci/run)"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(20_000)
        yield context
        context.close()


def confined_to(context: BrowserContext, origin: str) -> list[str]:
    """Refuse every request not aimed at `origin`; the returned list collects their URLs."""
    refused: list[str] = []

    def route(route: Route) -> None:
        if route.request.url.startswith(f"{origin}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return refused


def listed_operations(page: Page) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation block Swagger UI rendered."""
    blocks = page.locator(".opblock")
    return {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").get_attribute("data-path") or "",
        )
        for block in blocks.all()
    }


def test_swagger_ui_lists_every_operation_and_try_it_out_stores(
    live_server: LiveServer, browser: BrowserContext
) -> None:
    refused = confined_to(browser, live_server.url)
    page = browser.new_page()
    assets: list[str] = []
    page.on(
        "response",
        lambda response: assets.append(response.url) if response.status == 200 else None,
    )

    page.goto(f"{live_server.url}/picus/ui/")
    expected = spec_operations()
    page.locator(".opblock").nth(len(expected) - 1).wait_for()
    assert listed_operations(page) == expected
    assert f"{live_server.url}/picus/ui/swagger-ui-bundle.js" in assets

    put = page.locator(".opblock-post").filter(has=page.locator('[data-path="/put"]'))
    put.locator(".opblock-summary").click()
    put.get_by_role("button", name="Try it out").click()
    with page.expect_response(
        lambda r: r.url == f"{live_server.url}/picus/put" and r.request.method == "POST"
    ) as stored:
        put.get_by_role("button", name="Execute").click()
    assert stored.value.status == 201
    item_id = stored.value.json()["id"]
    stored_item = httpx.get(f"{live_server.url}/picus/get/{item_id}", timeout=10.0).json()
    assert stored_item["data"] == {"name": "picus", "tags": ["woodpecker"]}  # the spec's example
    put.locator(".live-responses-table .response-col_status", has_text="201").wait_for()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "swagger-ui.png", full_page=True)
    assert refused == []

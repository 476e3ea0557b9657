"""The TypeScript client (clients/typescript) against a real `picus serve` on PostgreSQL.

- `npm test` there (Node's test runner) drives every operation and the change feed in both
  forms through the client, with PICUS_BASE_URL pointing at the live server;
- a program written against types that openapi-typescript generates from the live server's
  /picus/openapi.json compiles under `strict` and drives put/get/list/patch/delete;
- in a real headless Chromium, the client follows the feed with the browser's EventSource.

The npm packages come from clients/typescript/package-lock.json through `npm ci`, which the
Makefile runs (`make test` depends on it); these tests never install anything.
"""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Route, sync_playwright

from devtools.paths import REPO
from devtools.servers import LiveServer

TS = REPO / "clients" / "typescript"
TS_BIN = TS / "node_modules" / ".bin"
MIN_NODE = 20  # clients/typescript/package.json: "engines"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
# The summary that Node's spec reporter ends with: an information sign, then "tests 34", ...
SUMMARY = re.compile(
    "^\N{INFORMATION SOURCE} (tests|suites|pass|fail|cancelled|skipped|todo) ([0-9]+)$",
    re.MULTILINE,
)
# Suites that must have run and passed: the items, PATCH and both forms of the feed.
REQUIRED_SUITES = [
    "put and get",
    "list",
    "replace with PUT",
    "patch (JSON Merge Patch)",
    "delete",
    "the JSON feed",
    "followChanges (Server-Sent Events)",
]


def node_tools() -> None:
    """Fail (not skip) with what to do when Node is too old or the npm packages are missing."""
    missing = [tool for tool in ("tsc", "openapi-typescript") if not (TS_BIN / tool).exists()]
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node/npm are not on PATH: the TypeScript client's tests need Node.js 20+")
    version = subprocess.run(
        ["node", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE:
        pytest.fail(f"Node.js {version} is too old: clients/typescript needs {MIN_NODE}+")
    if missing:
        pytest.fail(
            f"clients/typescript/node_modules lacks {', '.join(missing)}: run `make test`, "
            "or `cd clients/typescript && npm ci` (from its package-lock.json)"
        )


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run `command`, fail the test with its output unless it exits 0; return stdout."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result.stdout


def test_npm_test_passes_against_picus_serve(live_server: LiveServer) -> None:
    node_tools()
    output = run(["npm", "test"], cwd=TS, env={"PICUS_BASE_URL": live_server.url})
    summary = {name: int(count) for name, count in SUMMARY.findall(output)}
    assert summary.get("tests", 0) >= 30, output
    assert summary["pass"] == summary["tests"], output
    for outcome in ("fail", "cancelled", "skipped", "todo"):
        assert summary[outcome] == 0, f"{outcome}: {summary[outcome]}\n{output}"
    passed = set(re.findall("^\N{HEAVY CHECK MARK} (.+?) \\([0-9.]+ms\\)$", output, re.MULTILINE))
    assert set(REQUIRED_SUITES) <= passed, output


def test_program_against_types_from_the_live_spec(live_server: LiveServer, tmp_path: Path) -> None:
    """The issue's "done when": types from the live /picus/openapi.json, strict, and it runs."""
    node_tools()
    spec = httpx.get(f"{live_server.url}/picus/openapi.json", timeout=10.0)
    assert spec.status_code == 200
    work = tmp_path / "live-spec"
    work.mkdir()
    (work / "openapi.json").write_text(spec.text)
    for name in ("program.mts", "tsconfig.json"):
        shutil.copy(TS / "test" / "live-spec" / name, work)
    (work / "node_modules").symlink_to(TS / "node_modules", target_is_directory=True)

    run([str(TS_BIN / "openapi-typescript"), "openapi.json", "-o", "schema.ts"], cwd=work)
    schema = (work / "schema.ts").read_text()
    assert re.search(r"^\s*Document: unknown;$", schema, re.MULTILINE), "Document is not any JSON"
    run([str(TS_BIN / "tsc"), "-p", "."], cwd=work)
    output = run(["node", "build/program.mjs", live_server.url], cwd=work)

    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line.get("step"), line.get("status")) for line in lines[:-1]] == [
        ("put", 201),
        ("get", 200),
        ("list", 200),
        ("patch", 200),
        ("patch with a stale If-Match", 412),
        ("delete", 204),
        ("get after delete", 404),
    ]
    assert lines[-1] == {"ok": True}
    item_id = lines[0]["id"]
    assert httpx.get(f"{live_server.url}/picus/get/{item_id}", timeout=10.0).status_code == 404

    # The same compiler refuses a program that misuses the generated types: the step above
    # checks something.
    program = work / "program.mts"
    program.write_text(
        program.read_text()
        + '\nawait picus.GET("/get/{id}", { params: { path: { id: "one" } } });\n'
    )
    refused = subprocess.run(
        [str(TS_BIN / "tsc"), "-p", "."], cwd=work, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "program.mts" in refused.stdout, refused.stdout
    assert "TS2322" in refused.stdout, refused.stdout


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile; never a downloaded browser."""
    assert CHROMIUM.exists(), "needs Debian's chromium package (tools/system-packages)"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(20_000)
        yield context
        context.close()


# The page: counts EventSources made, then follows the feed through the client, stops after
# two changes, resumes from the last seq, and tries a wrong API root.
BROWSER_PAGE = """<!doctype html>
<script type="importmap">{"imports": {"openapi-fetch": "/ts-client/openapi-fetch.mjs"}}</script>
<script type="module">
const opened = [];
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(url, init) { super(url, init); opened.push(String(url)); }
};
const { createPicusClient, FeedError } = await import("/ts-client/dist/index.js");
const picus = createPicusClient(location.origin + "/picus");
async function take(changes, ids, count) {
  const taken = [];
  while (taken.length < count) {
    const next = await changes.next();
    if (next.done) throw new Error("the feed ended");
    if (ids.has(next.value.id)) taken.push(next.value);
  }
  return taken;
}
try {
  const first = await picus.GET("/changes", { params: { query: { limit: 1 } } });
  const since = Number(first.response.headers.get("Picus-Changes-Latest"));
  const ids = new Set();
  for (const n of [1, 2, 3]) ids.add((await picus.POST("/put", { body: { n } })).data.id);
  const stop = new AbortController();
  const head = await take(picus.followChanges({ since, signal: stop.signal }), ids, 2);
  stop.abort();
  ids.add((await picus.POST("/put", { body: { n: 4 } })).data.id);
  const resume = new AbortController();
  const tail = await take(
    picus.followChanges({ since: head.at(-1).seq, signal: resume.signal }), ids, 2);
  resume.abort();
  let failure = null;
  try {
    const wrong = createPicusClient(location.origin + "/not-picus");
    for await (const change of wrong.followChanges({ retryDelayMs: 10 })) break;
  } catch (error) {
    failure = { feedError: error instanceof FeedError, status: error.status };
  }
  window.outcome = { since, ids: [...ids], changes: [...head, ...tail], opened, failure };
} catch (error) {
  window.outcome = { error: String(error && error.stack || error) };
}
</script>
"""


def test_browser_follows_the_feed_with_eventsource(
    live_server: LiveServer, chromium: BrowserContext
) -> None:
    node_tools()
    run(["npm", "run", "build"], cwd=TS)  # dist/: the package as a browser imports it
    files = {
        "/ts-client/index.html": (BROWSER_PAGE.encode(), "text/html"),
        "/ts-client/openapi-fetch.mjs": (
            (TS / "node_modules" / "openapi-fetch" / "dist" / "index.mjs").read_bytes(),
            "text/javascript",
        ),
    }
    for module in (TS / "dist").rglob("*.js"):
        path = f"/ts-client/dist/{module.relative_to(TS / 'dist').as_posix()}"
        files[path] = (module.read_bytes(), "text/javascript")
    refused: list[str] = []

    def route(route: Route) -> None:
        url = route.request.url
        if not url.startswith(f"{live_server.url}/"):
            refused.append(url)
            route.abort()
            return
        path = url.removeprefix(live_server.url).split("?")[0]
        if path.startswith("/ts-client/"):
            if path not in files:
                refused.append(url)
                route.abort()
                return
            body, content_type = files[path]
            route.fulfill(status=200, body=body, content_type=content_type)
        else:
            route.continue_()

    chromium.route("**/*", route)
    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/ts-client/index.html")
    page.wait_for_function("window.outcome !== undefined")
    outcome = page.evaluate("window.outcome")

    assert "error" not in outcome, outcome.get("error")
    assert errors == []
    assert refused == []
    ids, since = outcome["ids"], outcome["since"]
    expected = [
        change
        for change in httpx.get(
            f"{live_server.url}/picus/changes", params={"since": since}, timeout=10.0
        ).json()
        if change["id"] in ids
    ]
    assert [(c["id"], c["op"]) for c in expected] == [(item_id, "created") for item_id in ids]
    assert outcome["changes"] == expected  # in order, no gap, no duplicate across the resume
    last_before_stop = outcome["changes"][1]["seq"]
    assert outcome["opened"][:2] == [
        f"{live_server.url}/picus/changes?since={since}",
        f"{live_server.url}/picus/changes?since={last_before_stop}",
    ]
    assert outcome["failure"] == {"feedError": True, "status": 404}

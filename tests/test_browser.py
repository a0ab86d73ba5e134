"""Real JupyterLab in headless Chromium: every notebook renders, and notebook 06's panel trains.

``test_every_notebook_opens_and_renders_its_stored_outputs`` opens each stored ``.ipynb`` (a copy),
one after another in one JupyterLab, and checks that all its cells and as many images as it stores
image outputs render, that no cell shows an error, and keeps a screenshot of each
(``test-artifacts/browser_NN_topic.png``). The counts come from the ``.ipynb`` files at test time.

What a student does, done by a browser: open ``06_drq_sac.ipynb`` in JupyterLab, run the setup
cells and the panel cell, see the panel (its Run button), press Run, and watch a plot appear and
update after the first evaluation. The notebook is a *copy* in a temporary folder (the repository's
file is never touched); the server runs from ``.venv`` on 127.0.0.1 with a random free port and a
token, and with a temporary settings folder that turns off the news dialog and starts the kernel
without asking. The panel's frame budget is made tiny through ``DEEPER_RL_QUICK_FRAMES`` (read by
``course_lib.widgets.quick_frames``). A screenshot goes to ``test-artifacts/browser_06.png``.

Both tests share one server and one Chromium (the ``lab`` fixture; each test opens its own page).
The stored notebooks open without starting a kernel: nothing runs in them, and a kernel per notebook
cost seconds each; the panel test starts and uses a real one.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no
browser download). Without them the test skips, unless ``REQUIRE_BROWSER=1`` (CI): then it fails.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_drq_sac.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUICK_FRAMES = "200"  # the panel's budget in this test: 100 random frames, then a few updates

# Bounded waits (seconds). The first evaluation (one 500-step episode, rendered) dominates.
SERVER_START = 60
CELL_RUN = 60
FIRST_PLOT = 90

# JupyterLab user settings: no news/update dialog, start the notebook's kernel without asking.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
}
# And the announcements plugin (the dialog asking to fetch news) disabled altogether.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def _missing(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and REQUIRE_BROWSER=1 says this test must run")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(base: Path, lab_settings: dict = LAB_SETTINGS) -> dict[str, str]:
    """Settings, config and runtime folders of a throwaway JupyterLab; returns the env additions."""
    settings = base / "lab-user-settings"
    for name, values in lab_settings.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    config = base / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    return {"JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces")}


def _require_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright==1.65.2)")
    if not Path(CHROMIUM).exists():
        _missing(f"Debian's chromium is not at {CHROMIUM} (apt-get install chromium)")


@contextlib.contextmanager
def _lab_server(tmp_path: Path, work: Path, extra_env: dict, lab_settings: dict = LAB_SETTINGS,
                extra_args: tuple = ()):
    """A JupyterLab server on folder ``work``; yields ``(base_url, token)``; killed afterwards."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, **_write_settings(tmp_path, lab_settings), **extra_env, "TQDM_DISABLE": "1"}
    env.setdefault("MUJOCO_GL", "egl")
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *extra_args]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{(tmp_path / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START} s")
            time.sleep(0.5)
        yield base_url, token
    finally:
        # The whole process group: the server and the kernels it started.
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


# The one server both tests use: the panel test's settings, plus every cell in the DOM (no virtual
# scrolling, so each notebook's images can be counted at once) and the app exposed to the page.
SHARED_SETTINGS = {**LAB_SETTINGS, "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                   {"autoStartDefaultKernel": True, "windowingMode": "none"}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server (folder ``work``) and one headless Chromium for this file's tests.

    Yields ``(base_url, token, work, browser)``; each test opens its own page (its own JupyterLab
    front end) and writes the notebook copies it needs into ``work``. Killed afterwards.
    """
    _require_browser()
    from playwright.sync_api import sync_playwright

    base = tmp_path_factory.mktemp("jupyterlab")
    work = base / "lab"
    work.mkdir()
    with _lab_server(base, work, {"DEEPER_RL_QUICK_FRAMES": QUICK_FRAMES}, SHARED_SETTINGS,
                     ("--LabApp.expose_app_in_browser=True",)) as (base_url, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield base_url, token, work, browser
        finally:
            browser.close()


@pytest.fixture
def jupyterlab(lab):
    """The shared server with a fresh copy of notebook 06 in its folder; yields ``(base_url, token, browser)``."""
    base_url, token, work, browser = lab
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK} is missing: build it with tools/build_notebooks.py")
    # A fresh copy, as a student opens it: no stored outputs, no execution counts (so a prompt
    # showing a number means "ran in this session").
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)
    (work / NOTEBOOK.name).write_text(json.dumps(notebook))
    yield base_url, token, browser
    _shut_down_kernels(base_url, token)  # the panel's kernel: nothing of it runs into the next test


def _dismiss_dialogs(page) -> None:
    """Close any modal dialog (news, kernel choice) that would swallow clicks."""
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0:
            return
        buttons = dialog.locator(".jp-Dialog-footer button")
        (buttons.last if buttons.count() else dialog).click()
        page.wait_for_timeout(300)


def _run_cell(page, cell, what: str) -> None:
    """Select ``cell``, press the toolbar's run button, wait until its prompt shows a number.

    A click can be lost while JupyterLab is still settling (a kernel starting, focus moving); a cell
    that was not even queued (no ``[*]`` after a few seconds) gets its run button pressed again.
    """
    prompt = cell.locator(".jp-InputArea-prompt")
    run_button = page.locator(".jp-NotebookPanel-toolbar [data-command='notebook:run-cell-and-select-next']")
    deadline = time.monotonic() + CELL_RUN
    for attempt in range(3):
        _dismiss_dialogs(page)
        prompt.click()
        page.wait_for_function("cell => cell.classList.contains('jp-mod-active')", arg=cell.element_handle(),
                               timeout=10_000)
        run_button.click()
        queued_by = time.monotonic() + 8
        while time.monotonic() < deadline:
            text = prompt.inner_text().strip()  # "[ ]:" not run, "[*]:" queued or running, "[3]:" done
            if text.startswith("[") and text[1:-2].strip().isdigit():
                stderr = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                assert "Error" not in " ".join(stderr.all_inner_texts()), \
                    f"{what} raised:\n{cell.inner_text()[-2000:]}"
                return
            if "*" not in text and time.monotonic() > queued_by:
                break  # never queued: press again
            page.wait_for_timeout(250)
        else:
            break
    pytest.fail(f"{what} did not run within {CELL_RUN} s (prompt {prompt.inner_text()!r})")


def test_training_panel_renders_and_plots_in_jupyterlab(jupyterlab):
    base_url, token, browser = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "browser_06.png"
    started = time.monotonic()
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.set_default_timeout(30_000)
        page.goto(f"{base_url}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        # The kernel starts on its own (autoStartDefaultKernel; the notebook names python3).
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        _dismiss_dialogs(page)

        code_cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
        _run_cell(page, code_cells.nth(0), "the setup cell")
        _run_cell(page, code_cells.nth(1), "the imports cell")
        panel_cell = code_cells.filter(has_text="widgets.TrainingPanel(")
        assert panel_cell.count() == 1, "notebook 06 should have exactly one cell creating the TrainingPanel"
        panel_cell.scroll_into_view_if_needed()
        _run_cell(page, panel_cell, "the panel cell")

        # The panel renders as widgets (not as its text fallback): controls and the Run button.
        outputs = panel_cell.locator(".jp-OutputArea")
        run_button = outputs.get_by_role("button", name="Run")
        run_button.wait_for(state="visible", timeout=30_000)
        assert outputs.get_by_text("spectral norm").is_visible()
        assert outputs.locator("select").count() >= 2, "task and head dropdowns should render"
        assert outputs.get_by_text("Press Run").is_visible()

        run_button.click()
        # The callback after the first evaluation redraws the plot and writes the return.
        status = outputs.get_by_text("last eval return")
        try:
            status.first.wait_for(state="visible", timeout=FIRST_PLOT * 1000)
        except Exception:
            pytest.fail(f"no evaluation reached the panel within {FIRST_PLOT} s after Run; the panel "
                        f"shows:\n{outputs.inner_text()[-2000:]}")
        plot = outputs.locator("img")
        assert plot.count() >= 1, "the panel should show its plot as an image after Run"
        width = plot.first.evaluate("img => img.naturalWidth")
        assert width > 100, f"the plot image did not load (naturalWidth {width})"
        panel_cell.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot), full_page=False)

        stop_button = outputs.get_by_role("button", name="Stop")
        if stop_button.is_enabled():
            stop_button.click()
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "browser_06_failure.png"))  # what the browser showed
        raise
    finally:
        page.close()
    assert screenshot.stat().st_size > 10_000
    assert time.monotonic() - started < 150, "the browser test should take well under 2 minutes"


# --- every notebook, as stored, opens and renders -----------------------------------------------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
RENDER = 45  # seconds for one notebook's cells and images to appear


def _stored_counts(path: Path) -> dict[str, int]:
    """What the stored .ipynb holds: its cells and its image outputs.

    A notebook opened from a clone is not trusted, so JupyterLab shows a widget's text fallback (our
    panels say "run the notebook to use it"), not the widget state saved with it: images inside
    saved widgets are not expected; every top-level image output is.
    """
    notebook = json.loads(path.read_text())
    outputs = [o for cell in notebook["cells"] for o in cell.get("outputs", [])]
    def images(output: dict) -> int:  # an image output, or the <img> tags of an HTML one (the videos)
        data = output.get("data", {})
        if any(k.startswith("image/") for k in data):
            return 1
        return "".join(data.get("text/html", "")).count("<img")

    return {"cells": len(notebook["cells"]), "images": sum(images(o) for o in outputs)}


# Runs in the page: what the visible notebook panel shows.
_RENDERED = """() => {
  const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  if (!panel) return null;
  const outputs = [...panel.querySelectorAll('.jp-Cell .jp-OutputArea-output')];
  const images = [...panel.querySelectorAll('.jp-Cell .jp-OutputArea-output img')];
  const stderr = outputs.filter(o => (o.getAttribute('data-mime-type') || '').includes('stderr'));
  return {
    cells: panel.querySelectorAll('.jp-Notebook .jp-Cell').length,
    images: images.length,
    loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    errors: stderr.map(o => o.innerText).filter(t => /Traceback|Error/.test(t)).map(t => t.slice(0, 300))
      .concat(outputs.map(o => o.innerText).filter(t => /Error displaying widget/.test(t)).map(t => t.slice(0, 300))),
    dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 300)),
  };
}"""


def _shut_down_kernels(base_url: str, token: str) -> None:
    with urllib.request.urlopen(f"{base_url}/api/sessions?token={token}", timeout=10) as reply:
        sessions = json.load(reply)
    for session in sessions:
        request = urllib.request.Request(f"{base_url}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


# Runs in the page before any notebook opens: notebooks open without starting a kernel (nothing
# runs in this test; the panel test above starts and uses one). The notebook widget factory's
# preferKernel and canStartKernel become the kernel preference's shouldStart and canStart.
_NO_KERNELS = """() => {
  const factory = window.jupyterapp.docRegistry.getWidgetFactory('Notebook');
  for (const name of ['preferKernel', 'canStartKernel']) {
    Object.defineProperty(factory, name, {value: false, configurable: true});
  }
  return [factory.preferKernel, factory.canStartKernel];
}"""


def test_every_notebook_opens_and_renders_its_stored_outputs(lab):
    """Each stored notebook, opened in one JupyterLab: its images render, no cell shows an error."""
    base_url, token, work, browser = lab
    (work / "stored").mkdir()
    expected = {}
    for path in NOTEBOOKS:
        copy = work / "stored" / path.name
        copy.write_text(path.read_text())  # a copy: nothing can write into the repository
        expected[path.name] = _stored_counts(copy)
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    problems = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(30_000)
        # ?reset: a workspace of its own (the panel test's layout is not restored)
        page.goto(f"{base_url}/lab?reset&token={token}", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=60_000)
        page.wait_for_selector(".jp-LauncherCard, .jp-DirListing", timeout=60_000)
        assert page.evaluate(_NO_KERNELS) == [False, False]
        for name, want in expected.items():
            _dismiss_dialogs(page)
            page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', "
                          "{path, factory: 'Notebook'})", f"stored/{name}")
            deadline, shown = time.monotonic() + RENDER, None
            while time.monotonic() < deadline:
                shown = page.evaluate(_RENDERED)
                if shown and shown["cells"] == want["cells"] and shown["loaded"] >= want["images"]:
                    break
                page.wait_for_timeout(250)
            first = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img").first
            if first.count():
                first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"browser_{Path(name).stem}.png"))
            got = {"cells": shown and shown["cells"], "images": shown and shown["images"]}
            if shown is None or got != want or shown["loaded"] != shown["images"]:
                problems.append(f"{name}: stored {want}, rendered {got} ({shown and shown['loaded']} images loaded)")
            if shown and (shown["errors"] or shown["dialogs"]):
                problems.append(f"{name}: errors {shown['errors']}, dialogs {shown['dialogs']}")
            page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    finally:
        page.close()
    _shut_down_kernels(base_url, token)  # none should have started; if one did, it goes
    assert not problems, "\n".join(problems)
    assert all((ARTIFACTS / f"browser_{p.stem}.png").stat().st_size > 10_000 for p in NOTEBOOKS)
    assert time.monotonic() - started < 150, "opening every notebook should take well under 2 minutes"

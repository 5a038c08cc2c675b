"""The console in a real browser: Debian's chromium, driven by selenium through Debian's chromedriver
(an explicit driver path, so Selenium Manager downloads nothing). Every check waits for the page's state
(WebDriverWait); nothing sleeps."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.integration.console_helpers import InProcessConsole, User, web_service
from tests.integration.operator_helpers import Cluster

pytest_plugins = ["tests.integration.console_fixtures"]
pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 120
# CI installs the browser and sets this, which makes a missing browser a failure instead of a skip.
REQUIRED_ENV = "ECS_OPERATOR_BROWSER"
MISSING = (
    "the browser tests need Debian's chromium and chromedriver "
    "(apt-get install -y --no-install-recommends chromium chromium-driver; .ci/run does)"
)

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if os.environ.get(REQUIRED_ENV) == "required":
        raise RuntimeError(f"{REQUIRED_ENV}=required but {MISSING}")
    pytest.skip(f"skipped: {MISSING}", allow_module_level=True)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1440,1000")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    # A live update replaces the fragment an element was found in: look again.
    patient = WebDriverWait(
        driver, WAIT_SECONDS, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    return patient.until(condition, message=what)


def text_of(driver: WebDriver, selector: str) -> str:
    return str(
        driver.execute_script("return document.querySelector(arguments[0])?.innerText.trim() ?? ''", selector)
    )


def attribute(driver: WebDriver, selector: str, name: str) -> str:
    script = "return document.querySelector(arguments[0])?.getAttribute(arguments[1]) ?? ''"
    return str(driver.execute_script(script, selector, name))


def sign_in(driver: WebDriver, console: InProcessConsole, user: User) -> None:
    driver.get(f"{console.url}/clusters")  # not signed in: sent to the sign-in form
    wait(driver, lambda d: d.find_elements(By.ID, "token"), "the sign-in form")
    driver.find_element(By.ID, "token").send_keys(user.token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(
        driver,
        lambda d: d.current_url.endswith("/clusters") and d.find_elements(By.CSS_SELECTOR, "main"),
        "signed in",
    )


def mark(driver: WebDriver) -> None:
    """Something only this page load has: gone if the page reloads."""
    driver.execute_script("window.__loadedOnce = 'yes'")


def not_reloaded(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return window.__loadedOnce === 'yes'"))


def test_scale_roll_and_stop_from_the_browser_while_the_service_page_updates_itself(
    ecs_cluster: Cluster, editor: User, console_server: InProcessConsole, browser: WebDriver
) -> None:
    cluster = ecs_cluster
    web = web_service(cluster, desired=3)
    driver = browser
    sign_in(driver, console_server, editor)

    driver.find_element(By.CSS_SELECTOR, f"tr[data-cluster='{cluster.name}'] a").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-service=web] a"), "the Services tab")
    driver.find_element(By.CSS_SELECTOR, "tr[data-service=web] a").click()
    running = "#health [data-field=running]"
    wait(driver, lambda d: text_of(d, running) == "3", "3 running tasks")
    wait(driver, lambda d: d.execute_script("return htmx.version") == "2.0.11", "htmx loaded")
    mark(driver)
    service_page = driver.current_window_handle
    old_events = {
        e.get_attribute("data-event") for e in driver.find_elements(By.CSS_SELECTOR, "tr[data-event]")
    }

    # Scale 3 -> 5 with the form in a second tab; the service page, left open, never reloads.
    update_url = driver.find_element(By.ID, "update").get_attribute("href")
    driver.switch_to.new_window("tab")
    driver.get(str(update_url))
    count = driver.find_element(By.ID, "desiredCount")
    count.clear()
    count.send_keys("5")
    driver.find_element(By.CSS_SELECTOR, "#update-form button[type=submit]").click()
    wait(driver, lambda d: "desired count 5" in text_of(d, ".flash-ok"), "the update confirmed")
    driver.switch_to.window(service_page)
    wait(driver, lambda d: text_of(d, running) == "5", "5 running tasks, live")
    assert text_of(driver, "#health [data-field=desired]") == "5" and not_reloaded(driver)
    wait(
        driver,
        lambda d: int(d.find_element(By.ID, "chart").get_attribute("data-samples") or 0) >= 2,
        "the chart",
    )

    # A new revision (web:2) from JSON, then the service rolled to it.
    driver.switch_to.window(driver.window_handles[-1])
    driver.get(f"{console_server.url}/clusters/{cluster.name}/task-definitions/{web}/new-revision")
    editor_box = driver.find_element(By.ID, "json")
    request = json.loads(editor_box.get_property("value"))
    request["containerDefinitions"][0]["environment"] = [{"name": "COLOUR", "value": "blue"}]
    driver.execute_script("arguments[0].value = arguments[1]", editor_box, json.dumps(request, indent=2))
    driver.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()
    wait(
        driver, lambda d: f"Registered task definition {web}:2" in text_of(d, ".flash-ok"), "web:2 registered"
    )
    driver.get(str(update_url))
    Select(driver.find_element(By.ID, "taskDefinition")).select_by_value(f"{web}:2")
    driver.find_element(By.CSS_SELECTOR, "#update-form button[type=submit]").click()
    wait(driver, lambda d: f"task definition {web}:2" in text_of(d, ".flash-ok"), "the rollout started")

    driver.switch_to.window(service_page)
    new_deployment = "[data-deployment]:first-child"
    wait(driver, lambda d: f"{web}:2" in text_of(d, new_deployment), "the web:2 deployment, live")
    wait(driver, lambda d: attribute(d, f"{new_deployment} progress", "max") == "5", "its progress bar of 5")
    wait(
        driver,
        lambda d: (
            attribute(d, new_deployment, "data-rollout") == "COMPLETED"
            and len(d.find_elements(By.CSS_SELECTOR, "[data-deployment]")) == 1
        ),
        "web:2 COMPLETED",
    )

    def new_steady_state(d: WebDriver) -> bool:
        for row in d.find_elements(By.CSS_SELECTOR, "tr[data-event]"):
            if row.get_attribute("data-event") not in old_events and "has reached a steady state" in row.text:
                return True
        return False

    wait(driver, new_steady_state, "a new steady-state event, live")
    assert not_reloaded(driver)

    # Stop a task and see its stop code.
    driver.find_element(By.CSS_SELECTOR, "#service_tasks tr[data-task] a").click()
    wait(driver, lambda d: d.find_elements(By.ID, "stop"), "the task page")
    driver.find_element(By.ID, "stop").click()
    driver.find_element(By.ID, "reason").send_keys("stopped in the browser")
    driver.find_element(By.CSS_SELECTOR, "#stop-form button[type=submit]").click()
    wait(driver, lambda d: text_of(d, "#stop-code") == "UserInitiated", "stop code UserInitiated")
    assert text_of(driver, "#stopped-reason") == "stopped in the browser"
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors  # no script error, no resource the CSP refused


def test_a_read_only_token_sees_no_action_and_a_forged_post_is_refused(
    ecs_cluster: Cluster, viewer: User, console_server: InProcessConsole, browser: WebDriver
) -> None:
    cluster = ecs_cluster
    web = web_service(cluster, desired=1)
    driver = browser
    sign_in(driver, console_server, viewer)
    path = f"/clusters/{cluster.name}/services/web"
    driver.get(console_server.url + path)
    wait(driver, lambda d: text_of(d, "#health [data-field=running]") == "1", "the service page")
    assert driver.find_elements(By.CSS_SELECTOR, "#update, #delete, main form") == []
    driver.find_element(By.CSS_SELECTOR, "#service_tasks tr[data-task] a").click()
    wait(driver, lambda d: text_of(d, "#last-status") == "RUNNING", "the task page")
    assert driver.find_elements(By.CSS_SELECTOR, "#stop, main form") == []

    # A forged form, with the session's own CSRF token: only the API server can refuse it.
    driver.get(console_server.url + path)
    wait(driver, lambda d: text_of(d, "#health [data-field=running]") == "1", "the service page")
    driver.execute_script(
        """
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const form = document.createElement('form');
        form.method = 'post';
        form.action = arguments[0];
        const fields = {csrf: token, desiredCount: '9', taskDefinition: arguments[1]};
        for (const [name, value] of Object.entries(fields)) {
          const input = document.createElement('input');
          input.name = name; input.value = value; form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
        """,
        path + "/update",
        f"{web}:1",
    )
    wait(driver, lambda d: d.find_elements(By.ID, "error"), "the refusal")
    message = text_of(driver, "#error")
    assert 'cannot patch resource "ecsservices"' in message and viewer.name in message
    page = BeautifulSoup(driver.page_source, "html.parser")
    assert page.select_one("#not-allowed") is not None and not page.select("main button[type=submit]")
    assert cluster.get("ecsservice", "web")["spec"]["desiredCount"] == 1  # type: ignore[index]

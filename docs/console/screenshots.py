"""Screenshots for docs/console.md: after `make demo KEEP=1`, `.venv/bin/python docs/console/screenshots.py`.

Runs the operator and a console (kubeconfig mode) on the demo's cluster ($KUBECONFIG, else the local
control plane), scales `web` (to 4, or back to 3) and stops one of its tasks through the console (so the
pages show a deployment, a chart and a stop code), and saves each page as headless chromium renders it on
a laptop screen (1280 px wide) into this folder.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecs_operator import subprocesses
from ecs_operator.console.process import ConsoleProcess
from ecs_operator.localcluster import cluster as localcluster
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
WIDTH = 1280


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    patient = WebDriverWait(
        driver, 120, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    return patient.until(condition, message=what)


def text_of(driver: WebDriver, selector: str) -> str:
    return str(
        driver.execute_script("return document.querySelector(arguments[0])?.innerText.trim() ?? ''", selector)
    )


def shoot(driver: WebDriver, name: str, most: int = 1000) -> None:
    """The whole page (up to `most` px high), as a 1280 px wide laptop window shows it."""
    chrome = int(driver.execute_script("return window.outerHeight - window.innerHeight"))
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(WIDTH, min(height, most) + chrome)
    driver.save_screenshot(str(HERE / f"{name}.png"))
    driver.set_window_size(WIDTH, 800 + chrome)
    print(f"docs/console/{name}.png", flush=True)


def main() -> int:
    kubeconfig = os.environ.get("KUBECONFIG") or str(localcluster.layout().kubeconfig)
    logs = Path(tempfile.mkdtemp(prefix="console-shots-"))
    operator = subprocesses.OperatorProcess(kubeconfig, logs / "operator.log")
    console = ConsoleProcess(kubeconfig, logs / "console.log")
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH},800",
    ):
        options.add_argument(argument)
    operator.start()
    console.start()
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        base = console.url
        driver.get(console.signin_url)
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-cluster=demo]"), "the clusters")
        shoot(driver, "clusters")

        driver.get(f"{base}/clusters/demo/services/web/update")
        field = driver.find_element(By.ID, "desiredCount")
        scaled = "3" if field.get_property("value") == "4" else "4"  # a change, however often it runs
        field.clear()
        field.send_keys(scaled)
        shoot(driver, "service-update")
        driver.find_element(By.CSS_SELECTOR, "#update-form button[type=submit]").click()
        wait(driver, lambda d: text_of(d, "#health [data-field=running]") == scaled, f"{scaled} running")
        wait(
            driver,
            lambda d: (
                int(d.execute_script("return document.getElementById('chart').dataset.samples || 0")) >= 2
            ),
            "chart",
        )
        shoot(driver, "service", 1500)

        driver.find_element(By.CSS_SELECTOR, "#service_tasks tr[data-task] a").click()
        driver.find_element(By.ID, "stop").click()
        driver.find_element(By.ID, "reason").send_keys("Replaced after a config check")
        driver.find_element(By.CSS_SELECTOR, "#stop-form button[type=submit]").click()
        wait(driver, lambda d: text_of(d, "#stop-code") == "UserInitiated", "the stop code")
        wait(driver, lambda d: "STOPPED" in text_of(d, "#last-status"), "STOPPED")
        shoot(driver, "task")

        for tab in ("services", "tasks", "infrastructure", "task-definitions"):
            driver.get(f"{base}/clusters/demo/{tab}")
            wait(
                driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".tab-panel table, .tab-panel .empty"), tab
            )
            shoot(driver, f"cluster-{tab}")

        driver.get(f"{base}/clusters/demo/task-definitions/web")
        shoot(driver, "task-definition-family")
        driver.get(f"{base}/clusters/demo/task-definitions/web/1")
        shoot(driver, "task-definition-revision")
        driver.get(f"{base}/clusters/demo/task-definitions/web/new-revision")
        box = driver.find_element(By.ID, "json")
        request = json.loads(str(box.get_property("value")))
        request["containerDefinitions"][0]["essential"] = False
        driver.execute_script("arguments[0].value = arguments[1]", box, json.dumps(request, indent=2))
        driver.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()
        wait(driver, lambda d: d.find_elements(By.ID, "error"), "the validation message")
        shoot(driver, "task-definition-new-revision")
        driver.get(f"{base}/clusters/demo/run-task?taskDefinition=db-migrate:1")
        shoot(driver, "run-task")
    finally:
        driver.quit()
        console.stop()
        operator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drives headless Chromium through the DevTools protocol for the dashboard's browser tests.

    python browser.py pages BASE PATH...            load each page; print one JSON line per page
    python browser.py click BASE PATH SELECTOR      load PATH, click SELECTOR with real mouse events, wait for
                                                    the next page; print its URL and the text of #job-state
    python browser.py screenshot BASE PATH OUT.png [WIDTH HEIGHT]
    python browser.py watch BASE PATH EXPRESSION MARKER
                                                    load PATH, note whether the JavaScript EXPRESSION holds, write
                                                    the file MARKER, then wait (60 s at most) until it holds

Each page line says: the document's HTTP status, title, h1, console errors and uncaught exceptions, failed
requests, and requests that left BASE (the dashboard must load nothing from elsewhere).
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import websocket  # websocket-client, installed into .venv by scripts/setup.sh

TIMEOUT = 60.0


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="tributary-chromium-")
        self.process = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
             "--user-data-dir=" + self.profile, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = None
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            self.close()
            raise SystemExit("chromium did not start its DevTools endpoint")
        self.socket = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(domain + ".enable", session=True)

    def call(self, method, params=None, session=False):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s failed: %s" % (method, reply["error"]))
                return reply.get("result", {})
            self.events.append(reply)
        raise RuntimeError("no reply to " + method)

    def wait_for(self, method, since):
        """The first event `method` at or after index `since` of the event list, reading more as needed."""
        deadline = time.time() + TIMEOUT
        index = since
        while time.time() < deadline:
            while index < len(self.events):
                if self.events[index].get("method") == method:
                    return self.events[index]
                index += 1
            self.events.append(json.loads(self.socket.recv()))
        raise RuntimeError("no %s event" % method)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        return result.get("result", {}).get("value")

    def load(self, url):
        since = len(self.events)
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired", since)
        return since

    def report(self, base, since):
        """What happened since event `since`: the document's status and any error or foreign request."""
        status, errors, failed, foreign = None, [], [], []
        for event in self.events[since:]:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.responseReceived" and params.get("type") == "Document":
                status = params["response"]["status"]
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(base) and not url.startswith("data:"):
                    foreign.append(url)
            elif method == "Network.loadingFailed":
                failed.append(params.get("errorText", "?"))
            elif method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(" ".join(str(arg.get("value", "")) for arg in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return {"status": status, "errors": errors, "failedRequests": failed, "foreignRequests": foreign,
                "url": self.evaluate("location.href"), "title": self.evaluate("document.title"),
                "h1": self.evaluate("(document.querySelector('h1') || {}).textContent || ''"),
                "stylesheetApplied": self.evaluate(
                    "getComputedStyle(document.querySelector('header') || document.body).display === 'flex'")}

    def click(self, selector):
        box = self.evaluate(
            "(function(){var e=document.querySelector(%s); if(!e) return null; e.scrollIntoView();"
            "var r=e.getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2];})()" % json.dumps(selector))
        if box is None:
            raise SystemExit("nothing matches " + selector)
        x, y = box
        since = len(self.events)
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session=True)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}, session=True)
        self.wait_for("Page.loadEventFired", since)
        return since

    def screenshot(self, path, width, height):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as output:
            output.write(base64.b64decode(data))

    def close(self):
        try:
            self.process.terminate()
            self.process.wait(timeout=20)
        except Exception:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    command, base = sys.argv[1], sys.argv[2].rstrip("/")
    browser = Browser()
    try:
        if command == "pages":
            for path in sys.argv[3:]:
                since = browser.load(base + path)
                line = browser.report(base, since)
                line["path"] = path
                print(json.dumps(line), flush=True)
        elif command == "click":
            path, selector = sys.argv[3], sys.argv[4]
            browser.load(base + path)
            since = browser.click(selector)
            line = browser.report(base, since)
            line["jobState"] = browser.evaluate("(document.querySelector('#job-state') || {}).textContent || ''")
            line["notice"] = browser.evaluate("(document.querySelector('.notice') || {}).textContent || ''")
            print(json.dumps(line), flush=True)
        elif command == "watch":
            path, expression, marker = sys.argv[3], sys.argv[4], sys.argv[5]
            since = browser.load(base + path)
            initial = bool(browser.evaluate(expression))
            with open(marker, "w") as note:
                note.write("loaded\n")
            deadline = time.time() + TIMEOUT
            final = initial
            while not final and time.time() < deadline:
                time.sleep(0.2)
                final = bool(browser.evaluate(expression))
            line = browser.report(base, since)
            line["initial"], line["final"] = initial, final
            print(json.dumps(line), flush=True)
        elif command == "screenshot":
            path, output = sys.argv[3], sys.argv[4]
            width = int(sys.argv[5]) if len(sys.argv) > 5 else 1280
            height = int(sys.argv[6]) if len(sys.argv) > 6 else 800
            browser.screenshot(output, width, height)
            browser.load(base + path)
            browser.screenshot(output, width, height)
            print(json.dumps({"path": path, "png": os.path.abspath(output)}), flush=True)
        else:
            raise SystemExit("unknown command " + command)
    finally:
        browser.close()


if __name__ == "__main__":
    main()

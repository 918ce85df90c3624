"""Latency of the case list and the case page under concurrent clients.

    python bench/case_list.py --cases 1000000 --clients 50 --duration 60 [--engine sqlite|postgresql]

Fills a benchmark database with demo data (once; reused while it has enough cases), starts the
production server (gunicorn) on it, logs in once as a case manager of the Supreme People's
Procuratorate (the widest scope, so every list query runs over all cases) and gives that session
to 50 clients, each on its own connection, and has each client request, in a closed loop with a
think time (``--think``: uniform between 0 and twice the mean), either a case-list page (a random
page, filter or sort) or a random case page. Prints requests/s and p50/p95/p99 latency per page kind,
and the error count. Target (issue 2): p95 <= 150 ms, no errors.
"""

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def database_url(engine: str) -> str:
    if engine == "postgresql":
        return os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/jiancha_bench_list")
    return f"sqlite:///{ROOT / 'var' / 'bench_case_list.sqlite3'}"


def jiancha(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run([str(BIN / "jiancha"), *args], env=env, check=True, text=True, capture_output=capture)
    return result.stdout if capture else ""


def prepare(engine: str, cases: int) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url(engine), "DJANGO_SETTINGS_MODULE": "jiancha.settings"}
    if engine == "postgresql":
        name = urllib.parse.urlparse(env["DATABASE_URL"]).path.lstrip("/")
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], capture_output=True)
    (ROOT / "var").mkdir(exist_ok=True)
    jiancha(env, "migrate", "--no-input", "-v", "0")
    count = int(jiancha(env, "shell", "-c", "from jiancha.cases.models import Case; print(Case.objects.count())", capture=True).strip().splitlines()[-1])
    if count < cases:
        print(f"filling the {engine} database: {count} -> {cases} cases", flush=True)
        jiancha(env, "demo-data", "--cases", str(cases), "--seed", "7", "--no-evaluate")
    jiancha(env, "shell", "-c", (
        "from jiancha.accounts.models import User, Unit\n"
        "u, _ = User.objects.get_or_create(username='bench', defaults={'unit': Unit.objects.get(code='000000'), 'role': 'case_manager'})\n"
        "u.set_password('bench-pass-1'); u.save()\n"
    ))
    if engine == "postgresql":
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", urllib.parse.urlparse(env["DATABASE_URL"]).path.lstrip("/"), "-qc", "VACUUM ANALYZE"], check=True)
    return env


def case_ids(env: dict[str, str], sample: int = 2000) -> list[int]:
    out = jiancha(env, "shell", "-c", (
        "from jiancha.cases.models import Case\n"
        "m = Case.objects.order_by('-id').values_list('id', flat=True).first() or 0\n"
        "import random; r = random.Random(3)\n"
        f"ids = list(Case.objects.filter(id__in=[r.randint(1, m) for _ in range({sample})]).values_list('id', flat=True))\n"
        "print(','.join(map(str, ids)))\n"
    ), capture=True)
    return [int(x) for x in out.strip().splitlines()[-1].split(",") if x]


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection (gunicorn's keepalive is a few
            # seconds, think times are longer): reconnect and send again, as browsers do.
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)})
        status, _ = self.request("POST", "/login/", body, {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/login/"})
        assert status == 302, f"login failed with HTTP {status}"


LIST_QUERIES = [
    "/cases/",
    "/cases/?page={page}",
    "/cases/?business_line=ordinary_crime&page={page}",
    "/cases/?procedure=prosecution_review&status=closed",
    "/cases/?sort=received_on&page={page}",
    "/cases/?received_from=2024-01-01&received_to=2024-03-31",
    "/cases/?charge=%E7%9B%97%E7%AA%83%E7%BD%AA",
    "/cases/?unit=330000",
    "/cases/?unit=330106&status=open",
]


def run_load(port: int, ids: list[int], clients: int, duration: float, think: float) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"list": [], "case": []}
    errors: list[str] = []
    lock = threading.Lock()
    # The measured window starts when every client is connected, so that it holds page
    # requests only.
    window: dict[str, float] = {}

    def open_window() -> None:
        window["started"] = time.monotonic()
        window["stop"] = window["started"] + duration

    ready = threading.Barrier(clients + 1, action=open_window)
    # One login, its session shared by all clients: 50 password hashes at once would take the
    # machine's CPU for half a minute and is not what this measures.
    first = Client("127.0.0.1", port)
    first.login("bench", "bench-pass-1")

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = Client("127.0.0.1", port)
        client.cookies = dict(first.cookies)
        ready.wait()
        while time.monotonic() < window["stop"]:
            if rng.random() < 0.5:
                kind, path = "list", rng.choice(LIST_QUERIES).format(page=rng.randint(1, 200))
            else:
                kind, path = "case", f"/cases/{rng.choice(ids)}/"
            started = time.perf_counter()
            try:
                status, _ = client.request("GET", path)
            except Exception as error:  # noqa: BLE001 - a bench counts every failure
                status, _ = 0, str(error)
                cookies = client.cookies
                client = Client("127.0.0.1", port)
                client.cookies = cookies
            elapsed = time.perf_counter() - started
            with lock:
                if status != 200:
                    errors.append(f"{status} {path}")
                else:
                    results[kind].append(elapsed)
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    results["elapsed"] = time.monotonic() - window["started"]  # type: ignore[assignment]
    results["errors"] = errors  # type: ignore[assignment]
    return results


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between a client's requests, seconds (0: back-to-back requests)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    # Sync workers, three per core: a request is CPU-bound Python plus short database waits;
    # threads in one process only contend for its interpreter lock (measured: 5x2 and 3x4
    # gave a higher p95 than 6x1 on both engines).
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 3)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    env = prepare(args.engine, args.cases)
    ids = case_ids(env)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "jiancha.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
        env={**env, "JIANCHA_BENCH": "1"},
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.2)
        run_load(args.port, ids, min(args.clients, 4), 5, 0)  # warm caches
        results = run_load(args.port, ids, args.clients, args.duration, args.think)
        elapsed = results.pop("elapsed")
    finally:
        server.terminate()
        server.wait()
    errors = results.pop("errors")
    total = sum(len(v) for v in results.values())
    print(f"engine={args.engine} cases={args.cases} clients={args.clients} think={args.think}s workers={args.workers}x{args.threads} duration={elapsed:.0f}s")
    print(f"throughput: {total / elapsed:.1f} requests/s, errors: {len(errors)}")
    for kind, values in results.items():
        print(f"{kind:5s} n={len(values):6d} p50={percentile(values, 50):7.1f} ms  p95={percentile(values, 95):7.1f} ms  p99={percentile(values, 99):7.1f} ms")
    if errors:
        print("first errors:", errors[:5])
    worst = max(percentile(v, 95) for v in results.values())
    print(f"target p95 <= 150 ms: {'met' if worst <= 150 and not errors else 'NOT met'} (worst p95 {worst:.1f} ms)")


if __name__ == "__main__":
    main()

"""A loopback load test of a running server, over HTTP only (`manage.py loadtest`).

Threads of clients (http.client, token authentication) run a mix of reads (a filtered
customer list, a customer, a customer's live engagement) and writes (single and bulk
interactions, every one with an external id unique to the run) for a fixed time. Beside
them:

- freshness probes: customers created by the run long ago and never active (so churned),
  each given a `login` during the load; the time from the write's acknowledgement until
  GET /api/customers/{id}/ answers `engagement.status == "active"` is the event-to-refreshed
  latency (a probe not refreshed within the timeout counts as a failure);
- the broker's queue length (kombu, any transport), sampled every second;
- at the end, every acknowledged write is looked up through the API by the run's external
  id prefix: an acknowledged row that is missing is a lost write.

Plain Python on purpose (no Django import): it only speaks the public API, so it can point at
any deployment. The figures come back as a dict; `verdict()` lists what fails the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import itertools
import json
import math
import random
import statistics
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict

STATUSES = ["new", "active", "passive", "at_risk", "inactive", "churned"]
TYPES = ["recent_buyer", "loyal", "support", "product_subscriber", "service_subscriber", "contact"]
WRITE_KINDS = ["login", "feature_use", "email", "call", "chat", "meeting", "support"]

# Operation name -> share of the mix (normalised).
DEFAULT_MIX = {
    "customer_list": 25,
    "customer_detail": 20,
    "engagement_live": 20,
    "interaction_create": 25,
    "interaction_bulk": 10,
}
# How often a freshness probe reads its customer back: finely while the promise (seconds)
# is at stake, then slowly, so slow refreshes do not turn the probes into a load of their own.
POLL_SECONDS = 0.25
POLL_SECONDS_LATE = 2.0
POLL_FINE_FOR = 10.0
# The freshness probes' write and polls, reported apart from the mix.
PROBE_OPS = ("probe_write", "probe_poll")


@dataclasses.dataclass
class Options:
    base_url: str
    token: str = ""
    username: str = ""
    password: str = ""
    clients: int = 50
    seconds: float = 60.0
    bulk_size: int = 20
    probes: int = 20
    freshness_timeout: float = 60.0
    freshness_p95_max: float | None = 5.0  # None: freshness is measured, not enforced
    broker_url: str = ""
    queue: str = "celery"
    pool: int = 1000
    http_timeout: float = 60.0
    mix: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_MIX))
    seed: int | None = None
    log: object = None  # a callable taking one line of progress, or None


class Api:
    """One client's HTTP connection to the server (keep-alive when the server allows)."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 60.0):
        url = urllib.parse.urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"--base-url must be http(s)://host[:port], not {base_url!r}")
        self.scheme, self.host, self.port = url.scheme, url.hostname, url.port
        self.prefix = url.path
        self.token = token
        self.timeout = timeout
        self.connection = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def call(self, method: str, path: str, body=None) -> tuple[int, object, float]:
        """(status, decoded JSON or None, seconds); status 0 when the transport failed."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.request(method, self.prefix + path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, None, time.perf_counter() - started
        seconds = time.perf_counter() - started
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return status, data, seconds

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Recorder:
    """Latencies and outcomes per operation, shared by every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.outcomes = defaultdict(Counter)

    def add(self, op: str, status: int, seconds: float):
        outcome = "error" if status == 0 else f"{status // 100}xx"
        if status == 429:
            outcome = "429"
        with self.lock:
            self.latencies[op].append(seconds)
            self.outcomes[op][outcome] += 1


def percentile(values, fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values; inf stays inf)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class LoadTest:
    def __init__(self, options: Options):
        self.o = options
        self.random = random.Random(options.seed)
        self.run_id = uuid.uuid4().hex[:10]
        self.prefix = f"lt-{self.run_id}-"
        self.serial = itertools.count(1)
        self.recorder = Recorder()
        self.acknowledged: set[tuple[int, str]] = set()
        self.attempted = 0
        self.ack_lock = threading.Lock()
        self.customers: list[int] = []
        self.probe_results: list[float] = []  # seconds, inf when not refreshed in time
        self.probe_errors: list[str] = []
        self.queue_samples: list[tuple[float, int]] = []
        self.queue_error = ""
        self.stop_sampling = threading.Event()
        self.log = options.log or (lambda line: None)

    # -- setup -------------------------------------------------------------------------

    def api(self) -> Api:
        return Api(self.o.base_url, self.o.token, self.o.http_timeout)

    def authenticate(self):
        if self.o.token:
            return
        if not (self.o.username and self.o.password):
            raise SetupError("give --token, or --username and --password")
        status, data, _ = Api(self.o.base_url, timeout=self.o.http_timeout).call(
            "POST",
            "/api/auth/token/",
            {"username": self.o.username, "password": self.o.password},
        )
        if status != 200 or not isinstance(data, dict) or "token" not in data:
            raise SetupError(f"POST /api/auth/token/ answered {status}: {data}")
        self.o.token = data["token"]

    def load_customers(self):
        api, page = self.api(), 1
        while len(self.customers) < self.o.pool:
            status, data, _ = api.call(
                "GET", f"/api/customers/?page_size=500&ordering=id&page={page}"
            )
            if status != 200:
                raise SetupError(f"GET /api/customers/ answered {status}: {data}")
            self.customers += [row["id"] for row in data["results"]]
            if not data.get("next"):
                break
            page += 1
        self.customers = self.customers[: self.o.pool]
        if not self.customers:
            raise SetupError("no customers to load: seed some first (seed_demo --customers 300)")

    def make_probes(self) -> list[int]:
        """Customers since long ago with no activity: churned once their refresh ran."""
        api, ids = self.api(), []
        for index in range(self.o.probes):
            status, data, _ = api.call(
                "POST",
                "/api/customers/",
                {
                    "name": f"Load test probe {self.run_id} {index + 1}",
                    "customer_since": "2015-01-01",
                    "external_id": f"{self.prefix}probe-{index + 1}",
                },
            )
            if status != 201:
                raise SetupError(f"POST /api/customers/ answered {status}: {data}")
            ids.append(data["id"])
        deadline = time.monotonic() + self.o.freshness_timeout
        waiting = set(ids)
        while waiting and time.monotonic() < deadline:
            for pk in list(waiting):
                status, data, _ = api.call("GET", f"/api/customers/{pk}/")
                if status == 200 and (data.get("engagement") or {}).get("status") == "churned":
                    waiting.discard(pk)
            if waiting:
                time.sleep(0.5)
        if waiting:
            raise SetupError(
                f"{len(waiting)} of {len(ids)} probe customers were not classified churned "
                f"within {self.o.freshness_timeout:.0f} s: is a worker consuming the queue?"
            )
        return ids

    # -- the load ----------------------------------------------------------------------

    def _interaction(self, customer: int) -> dict:
        return {
            "customer": customer,
            "kind": self.random.choice(WRITE_KINDS),
            "occurred_at": _now_iso(),
            "subject": "load test",
            "external_id": f"{self.prefix}{next(self.serial)}",
        }

    def _acknowledge(self, rows):
        with self.ack_lock:
            self.acknowledged.update((row["customer"], row["external_id"]) for row in rows)

    def _attempt(self, count: int):
        with self.ack_lock:
            self.attempted += count

    def one_operation(self, api: Api, op: str):
        pick = self.random.choice
        if op == "customer_list":
            filters = [f"status={pick(STATUSES)}", f"kind={pick(['company', 'person'])}"]
            if self.random.random() < 0.5:
                filters.append(f"type={pick(TYPES)}")
            query = "&".join(self.random.sample(filters, k=self.random.randint(1, len(filters))))
            status, _, seconds = api.call("GET", f"/api/customers/?{query}")
        elif op == "customer_detail":
            status, _, seconds = api.call("GET", f"/api/customers/{pick(self.customers)}/")
        elif op == "engagement_live":
            path = f"/api/customers/{pick(self.customers)}/engagement/"
            status, _, seconds = api.call("GET", path)
        elif op == "interaction_create":
            row = self._interaction(pick(self.customers))
            self._attempt(1)
            status, _, seconds = api.call("POST", "/api/interactions/", row)
            if status == 201:
                self._acknowledge([row])
        else:
            rows = [self._interaction(pick(self.customers)) for _ in range(self.o.bulk_size)]
            self._attempt(len(rows))
            status, data, seconds = api.call("POST", "/api/interactions/bulk/", rows)
            # 200 means every row is stored (written now, or a duplicate already stored).
            if status == 200 and isinstance(data, dict):
                self._acknowledge(rows)
        self.recorder.add(op, status, seconds)

    def client(self, deadline: float):
        api = self.api()
        ops, weights = zip(*self.o.mix.items(), strict=True)
        try:
            while time.monotonic() < deadline:
                self.one_operation(api, self.random.choices(ops, weights)[0])
        finally:
            api.close()

    def probe(self, customer: int):
        api = self.api()
        try:
            row = {
                "customer": customer,
                "kind": "login",
                "occurred_at": _now_iso(),
                "external_id": f"{self.prefix}fresh-{customer}",
            }
            self._attempt(1)
            status, _, seconds = api.call("POST", "/api/interactions/", row)
            self.recorder.add("probe_write", status, seconds)
            if status != 201:
                self.probe_errors.append(f"probe write for customer {customer}: {status}")
                self.probe_results.append(math.inf)
                return
            self._acknowledge([row])
            written = time.monotonic()
            while time.monotonic() - written < self.o.freshness_timeout:
                status, data, seconds = api.call("GET", f"/api/customers/{customer}/")
                self.recorder.add("probe_poll", status, seconds)
                if status == 200 and (data.get("engagement") or {}).get("status") == "active":
                    self.probe_results.append(time.monotonic() - written)
                    return
                late = time.monotonic() - written > POLL_FINE_FOR
                time.sleep(POLL_SECONDS_LATE if late else POLL_SECONDS)
            self.probe_results.append(math.inf)
        finally:
            api.close()

    def prober(self, probes: list[int], started: float):
        """Spread the probes evenly over the load, each polling in a thread of its own."""
        threads = []
        gap = self.o.seconds / max(len(probes), 1)
        for index, customer in enumerate(probes):
            time.sleep(max(0.0, started + (index + 0.5) * gap - time.monotonic()))
            thread = threading.Thread(target=self.probe, args=(customer,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()

    def sample_queue(self, started: float):
        if not self.o.broker_url:
            return
        try:
            from kombu import Connection

            with Connection(self.o.broker_url, connect_timeout=5) as connection:
                channel = connection.default_channel
                while not self.stop_sampling.is_set():
                    try:
                        declared = channel.queue_declare(self.o.queue, passive=True)
                        depth = declared.message_count
                    except Exception:  # the queue does not exist yet: nothing waits
                        channel = connection.channel()
                        depth = 0
                    self.queue_samples.append((time.monotonic() - started, depth))
                    self.stop_sampling.wait(1.0)
        except Exception as error:  # a broker we cannot read is reported, not fatal
            self.queue_error = f"{type(error).__name__}: {error}"

    # -- after -------------------------------------------------------------------------

    def verify_writes(self) -> dict:
        """Look every acknowledged row up by the run's external id prefix (through the API)."""
        api, page, present = self.api(), 1, set()
        search = urllib.parse.quote(self.prefix)
        while True:
            status, data, _ = api.call(
                "GET", f"/api/interactions/?search={search}&page_size=500&ordering=id&page={page}"
            )
            if status != 200:
                raise SetupError(f"verifying writes: GET /api/interactions/ answered {status}")
            present.update(
                (row["customer"], row["external_id"])
                for row in data["results"]
                if row["external_id"].startswith(self.prefix)
            )
            if not data.get("next"):
                break
            page += 1
        api.close()
        lost = self.acknowledged - present
        return {
            "attempted": self.attempted,
            "acknowledged": len(self.acknowledged),
            "present": len(present),
            "lost": len(lost),
            "lost_examples": sorted(external for _, external in lost)[:5],
        }

    # -- the run -----------------------------------------------------------------------

    def run(self) -> dict:
        self.authenticate()
        self.load_customers()
        self.log(f"{len(self.customers)} customers in the pool; making {self.o.probes} probes")
        probes = self.make_probes() if self.o.probes else []
        self.log(f"load: {self.o.clients} clients for {self.o.seconds:.0f} s")
        started = time.monotonic()
        deadline = started + self.o.seconds
        sampler = threading.Thread(target=self.sample_queue, args=(started,), daemon=True)
        sampler.start()
        prober = threading.Thread(target=self.prober, args=(probes, started), daemon=True)
        prober.start()
        clients = [
            threading.Thread(target=self.client, args=(deadline,), daemon=True)
            for _ in range(self.o.clients)
        ]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        elapsed = time.monotonic() - started
        queue_at_end = self.queue_samples[-1][1] if self.queue_samples else None
        self.log(f"load done in {elapsed:.1f} s; waiting for the freshness probes")
        prober.join()
        self.stop_sampling.set()
        sampler.join(timeout=10)
        writes = self.verify_writes()
        return self.figures(elapsed, writes, queue_at_end)

    def figures(self, elapsed: float, writes: dict, queue_at_end) -> dict:
        ops = {}
        total = 0
        # The mix, then the probes' own requests (not counted in requests/s).
        for op in [*self.o.mix, *PROBE_OPS]:
            latencies = self.recorder.latencies.get(op, [])
            outcomes = self.recorder.outcomes.get(op, Counter())
            if op in self.o.mix:
                total += len(latencies)
            elif not latencies:
                continue
            ops[op] = {
                "count": len(latencies),
                "per_s": round(len(latencies) / elapsed, 1),
                "p50_ms": _ms(percentile(latencies, 0.5)),
                "p95_ms": _ms(percentile(latencies, 0.95)),
                "max_ms": _ms(max(latencies) if latencies else None),
                **{key: outcomes.get(key, 0) for key in ("2xx", "4xx", "429", "5xx", "error")},
            }
        results = self.probe_results
        refreshed = [s for s in results if math.isfinite(s)]
        depths = [depth for _, depth in self.queue_samples]
        return {
            "base_url": self.o.base_url,
            "run_id": self.run_id,
            "clients": self.o.clients,
            "seconds": round(elapsed, 1),
            "requests": total,
            "requests_per_s": round(total / elapsed, 1),
            "ops": ops,
            "rows_written_per_s": round(writes["acknowledged"] / elapsed, 1),
            "writes": writes,
            "freshness": {
                "probes": len(results),
                "refreshed": len(refreshed),
                "timeouts": len(results) - len(refreshed),
                "timeout_s": self.o.freshness_timeout,
                "p50_s": _s(percentile(results, 0.5)),
                "p95_s": _s(percentile(results, 0.95)),
                "max_s": _s(max(results) if results else None),
                "p95_max_s": self.o.freshness_p95_max,
                "errors": self.probe_errors[:5],
            },
            "queue": {
                "queue": self.o.queue if self.o.broker_url else None,
                "samples": len(depths),
                "max": max(depths) if depths else None,
                "mean": round(statistics.fmean(depths), 1) if depths else None,
                "at_load_end": queue_at_end,
                "last": depths[-1] if depths else None,
                "error": self.queue_error or None,
            },
        }


class SetupError(Exception):
    """The load could not start or be checked (bad credentials, no customers, no worker)."""


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def _s(seconds):
    # JSON has no infinity: a percentile that fell on a timed-out probe is null.
    if seconds is None or not math.isfinite(seconds):
        return None
    return round(seconds, 2)


def verdict(figures: dict) -> list[str]:
    """Why the run fails (empty: it passed): any 5xx, a transport error, a refused request
    other than throttling, a lost write, freshness p95 over its maximum or unmeasured."""
    reasons = []
    for op, row in figures["ops"].items():
        if row["5xx"]:
            reasons.append(f"{op}: {row['5xx']} server errors (5xx)")
        if row["error"]:
            reasons.append(f"{op}: {row['error']} requests failed in transport")
        if row["4xx"]:
            reasons.append(f"{op}: {row['4xx']} requests refused (4xx other than 429)")
    writes = figures["writes"]
    if writes["lost"]:
        reasons.append(
            f"{writes['lost']} acknowledged writes missing, e.g. {writes['lost_examples']}"
        )
    fresh = figures["freshness"]
    if fresh["probes"] and fresh["p95_max_s"] is not None:
        p95, most = fresh["p95_s"], fresh["p95_max_s"]
        late = (
            f"{fresh['timeouts']} of {fresh['probes']} probes not refreshed within "
            f"{fresh['timeout_s']:.0f} s"
        )
        if p95 is None:
            reasons.append(f"freshness p95 over the {fresh['timeout_s']:.0f} s timeout ({late})")
        elif p95 > most:
            reasons.append(f"freshness p95 {p95} s over {most} s ({late})")
    return reasons


def table(figures: dict) -> str:
    """The figures for a person: one line per operation, then writes, freshness, queue."""
    lines = [
        f"{'operation':<20} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'4xx':>5} {'429':>5} {'5xx':>5} {'error':>5}"
    ]
    for op, row in figures["ops"].items():
        lines.append(
            f"{op:<20} {row['count']:>7} {row['per_s']:>7} {_cell(row['p50_ms']):>8} "
            f"{_cell(row['p95_ms']):>8} {_cell(row['max_ms']):>8} {row['4xx']:>5} "
            f"{row['429']:>5} {row['5xx']:>5} {row['error']:>5}"
        )
    writes, fresh, queue = figures["writes"], figures["freshness"], figures["queue"]
    lines += [
        f"all: {figures['requests']} requests in {figures['seconds']} s = "
        f"{figures['requests_per_s']} requests/s with {figures['clients']} clients",
        f"writes: {writes['acknowledged']} rows acknowledged ({figures['rows_written_per_s']}/s), "
        f"{writes['present']} present, {writes['lost']} lost",
        f"freshness: {fresh['refreshed']}/{fresh['probes']} probes active within "
        f"{fresh['timeout_s']:.0f} s; p50 {_cell(fresh['p50_s'])} s, p95 {_cell(fresh['p95_s'])} s "
        + (
            f"(max allowed {fresh['p95_max_s']} s)"
            if fresh["p95_max_s"] is not None
            else "(measured, not enforced)"
        ),
    ]
    if queue["queue"]:
        lines.append(
            f"queue {queue['queue']!r}: max {_cell(queue['max'])}, mean {_cell(queue['mean'])}, "
            f"at load end {_cell(queue['at_load_end'])}, last {_cell(queue['last'])}"
            + (f" ({queue['error']})" if queue["error"] else "")
        )
    return "\n".join(lines)


def _cell(value) -> str:
    return "-" if value is None else str(value)

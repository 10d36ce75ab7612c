"""``zhitong run``: the whole stack on one machine, as ``make run`` starts it.

A private ``redis-server`` (AOF under ``<var>/redis``), then intake, router, notifier and the
demo webhook receiver as child processes.  Children run in their own sessions so that a
terminal Ctrl-C reaches only this process, which then stops them in order: services first
(SIGTERM, they drain), the receiver, and Redis last (SIGTERM = SHUTDOWN, AOF flushed).

Children's log lines go to stdout unchanged when they are JSON (so ``zhitong run | jq``
works) and to ``<var>/logs/<name>.log``; the human banner goes to stderr.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shared.config import Config, load_config
from shared.logging import configure_logging, get_logger
from shared.privacy import mask
from zhitong.banner import curl_example, submit_key
from zhitong.redis_server import RedisServer, free_port
from zhitong.stackfile import DEFAULT_VAR_DIR, remove_stack_file, write_stack_file

log = get_logger(__name__)

SERVICES = ("intake", "router", "notifier")


class DevStackError(RuntimeError):
    """Raise when the stack cannot be started; the message is one line for the user."""


@dataclass(frozen=True)
class StackOptions:
    """What ``zhitong run`` was asked to start."""

    config: Path
    var_dir: Path
    http_port: int = 8080
    redis_port: int | None = None
    redis_url: str | None = None
    receiver_port: int = 8090
    receiver: bool = True
    ready_timeout: float = 60.0
    stop_timeout: float = 20.0


@dataclass
class Child:
    """One child process of the stack and how to tell it is ready."""

    name: str
    module: str
    argv: list[str]
    env: dict[str, str]
    port: int
    http_ready: bool = True
    process: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        """Return True once ``/readyz`` answers 200 (or, for the receiver, the port accepts)."""
        if not self.http_ready:
            return _port_open(self.port)
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:  # noqa: S310  (fixed http URL)
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


@dataclass
class DevStack:
    """Handle on the running stack; ``serve()`` runs it until a signal or a crash."""

    options: StackOptions
    redis: RedisServer | None = None
    redis_url: str = ""
    children: list[Child] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    # Set once this stack wrote <var>/stack.json: only then is it ours to remove.
    stack_file: Path | None = None
    # Components not started, with the reason the banner gives.
    skipped: dict[str, str] = field(default_factory=dict)
    _output_lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> int:
        """Start everything, print the banner, wait; return the process exit code."""
        configure_logging("devstack")
        # Restored on return: ``zhitong run`` invoked in-process (tests) must not leave the
        # caller's SIGINT/SIGTERM handlers replaced.
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        self._install_signal_handlers()
        try:
            self._start()
            if self.stop_requested.is_set():
                return 0
            self._print_banner()
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- start -------------------------------------------------------------------------

    def _start(self) -> None:
        config = self.options.config.resolve()
        if not config.is_file():
            raise DevStackError(f"config file not found: {self.options.config}")
        # Fail fast with the schema error rather than in three children.
        self.children = self._plan_children(config, load_config(config))
        busy = [c for c in self.children if _port_open(c.port)]
        if busy:
            names = ", ".join(f"{c.name} port {c.port}" for c in busy)
            raise DevStackError(
                f"already in use: {names} (another 'make run'? set ZHITONG_HTTP_PORT "
                "or ZHITONG_RECEIVER_PORT)"
            )
        self._start_redis()
        (self.options.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        for child in self.children:
            if self.stop_requested.is_set():
                return
            self._spawn(child)
        self._wait_ready()

    def _plan_children(self, config: Path, loaded: Config) -> list[Child]:
        children: list[Child] = []
        for offset, name in enumerate(SERVICES):
            module = f"services.{name}"
            if not _module_exists(f"{module}.__main__"):
                self._skip(name, f"{module} not written yet")
                continue
            port = self.options.http_port + offset
            argv = [sys.executable, "-m", module]
            children.append(Child(name, module, argv, self._child_env(config, port), port))
        if self.options.receiver:
            if not _has_webhooks(loaded):
                # The receiver verifies signatures with the config's webhook secrets; with
                # none it exits 2, which would stop the whole stack.
                self._skip("receiver", f"no webhook endpoints in {self.options.config}")
            elif _module_exists("zhitong.receiver"):
                port = self.options.receiver_port
                argv = [
                    sys.executable, "-m", "zhitong.receiver",
                    "--port", str(port), "--config", str(config),
                ]  # fmt: skip
                env = self._child_env(config, port)
                children.append(Child("receiver", "zhitong.receiver", argv, env, port, False))
            else:
                self._skip("receiver", "zhitong.receiver not written yet")
        return children

    def _skip(self, name: str, reason: str) -> None:
        self.skipped[name] = reason
        log.warning("component_skipped", component=name, reason=reason)

    def _child_env(self, config: Path, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ZHITONG_CONFIG=str(config),
            ZHITONG_HTTP_HOST="127.0.0.1",
            ZHITONG_HTTP_PORT=str(port),
            PYTHONUNBUFFERED="1",
        )
        return env

    def _start_redis(self) -> None:
        if self.options.redis_url:
            self.redis_url = self.options.redis_url
        else:
            port = self.options.redis_port or free_port()
            server = RedisServer(data_dir=(self.options.var_dir / "redis").resolve(), port=port)
            with _terminal_signals_blocked():
                server.start()
            self.redis = server
            self.redis_url = server.url
            log.info("redis_started", redis_url=self.redis_url, data_dir=str(server.data_dir))
        for child in self.children:
            child.env["ZHITONG_REDIS_URL"] = self.redis_url
        intake = next((c.url for c in self.children if c.name == "intake"), None)
        self.stack_file = write_stack_file(self.options.var_dir, self.redis_url, intake)

    def _spawn(self, child: Child) -> None:
        log_path = self.options.var_dir / "logs" / f"{child.name}.log"
        child.process = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
            child.argv,
            env=child.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert child.process.stdout is not None
        child.pump = threading.Thread(
            target=self._pump,
            args=(child.name, child.process.stdout, log_path),
            name=f"log-{child.name}",
            daemon=True,
        )
        child.pump.start()
        log.info("component_started", component=child.name, pid=child.process.pid, url=child.url)

    def _pump(self, name: str, stream: IO[bytes], log_path: Path) -> None:
        """Copy a child's output line by line to stdout and its log file, JSON throughout."""
        with log_path.open("a", encoding="utf-8") as sink:
            for raw in iter(stream.readline, b""):
                line = _as_json_line(name, raw.decode("utf-8", errors="replace").rstrip("\n"))
                if line is None:
                    continue
                sink.write(line + "\n")
                sink.flush()
                with self._output_lock:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.options.ready_timeout
        pending = list(self.children)
        while pending:
            if self.stop_requested.is_set():
                return
            died = self._first_dead()
            if died is not None:
                raise DevStackError(_died_message(died, self.options.var_dir))
            pending = [c for c in pending if not c.is_ready()]
            if pending and time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise DevStackError(
                    f"not ready after {self.options.ready_timeout:.0f}s: {names} "
                    f"(see {self.options.var_dir}/logs/)"
                )
            if pending:
                self.stop_requested.wait(0.1)

    # --- run ---------------------------------------------------------------------------

    def _watch(self) -> int:
        while not self.stop_requested.wait(0.2):
            died = self._first_dead()
            if died is not None:
                log.error("component_died", component=died.name, exit_code=_exit_code(died))
                _say(_died_message(died, self.options.var_dir))
                return 1
        log.info("stopping", reason="signal")
        return 0

    def _first_dead(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None

    # --- stop --------------------------------------------------------------------------

    def _stop_all(self) -> None:
        services = [c for c in self.children if c.name != "receiver"]
        others = [c for c in self.children if c.name == "receiver"]
        for group in (services, others):
            _terminate(group, self.options.stop_timeout)
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=2)
        if self.stack_file is not None:
            remove_stack_file(self.options.var_dir)
            self.stack_file = None
        if self.redis is not None:
            self.redis.stop()
            log.info("redis_stopped", data_dir=str(self.redis.data_dir))
            self.redis = None
        if self.children:
            log.info("stack_stopped")

    def _install_signal_handlers(self) -> None:
        def request_stop(_signum: int, _frame: object) -> None:
            self.stop_requested.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

    # --- banner ------------------------------------------------------------------------

    def _print_banner(self) -> None:
        by_name = {c.name: c for c in self.children}
        lines = ["", "直通 Zhitong is running — Ctrl-C stops everything.", ""]
        intake = by_name.get("intake")
        if intake is not None:
            lines.append(f"  intake     {intake.url}    API docs: {intake.url}/docs")
        for name in ("router", "notifier"):
            if name in by_name:
                lines.append(f"  {name:<10} {by_name[name].url}/readyz")
        if "receiver" in by_name:
            lines.append(f"  webhooks   {by_name['receiver'].url}/hooks  (demo receiver)")
        lines.append(f"  redis      {self.redis_url}" + self._redis_note())
        lines.append(f"  CLI        {self._cli_note()}")
        key, key_note = submit_key(load_config(self.options.config.resolve()))
        lines.append(f"  API key    {key_note}")
        lines.append(f"  logs       {self.options.var_dir}/logs/<service>.log (JSON on stdout too)")
        for name, reason in self.skipped.items():
            lines.append(f"  {name:<10} not started: {reason}")
        if intake is not None and key is not None:
            lines += ["", "Try:", f"  {curl_example(intake.url, key)}", ""]
        _say("\n".join(lines))

    def _redis_note(self) -> str:
        if self.redis is None:
            return "  (external)"
        return f"  (private redis-server, AOF in {self.redis.data_dir})"

    def _cli_note(self) -> str:
        """Return how ``zhitong stats`` & co. find this stack's Redis."""
        var_dir = self.options.var_dir
        via = (
            "zhitong stats"
            if var_dir == DEFAULT_VAR_DIR
            else f"ZHITONG_VAR_DIR={var_dir} zhitong stats"
        )
        return (
            f"{via}  (reads {self.stack_file} from this directory; elsewhere: "
            f"export ZHITONG_REDIS_URL={self.redis_url})"
        )


def _has_webhooks(config: Config) -> bool:
    """Return True when the demo receiver has secrets to verify with (its own rule)."""
    if os.environ.get("ZHITONG_RECEIVER_SECRETS", "").split():
        return True
    return any(hook.secrets for hook in config.channels.webhooks.values())


def _terminate(children: list[Child], timeout: float) -> None:
    """SIGTERM every live child, wait up to ``timeout`` s, then SIGKILL what is left."""
    live = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in live:
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in live:
        assert child.process is not None
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            log.info("component_stopped", component=child.name, exit_code=child.process.returncode)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
            log.warning("component_killed", component=child.name, after_s=timeout)


@contextlib.contextmanager
def _terminal_signals_blocked() -> Iterator[None]:
    """Block SIGINT while forking Redis: the child inherits the mask and so ignores Ctrl-C.

    ``RedisServer`` starts Redis in our process group, where a terminal Ctrl-C would stop it
    at once, under services still draining.  With SIGINT blocked it stops only on our SIGTERM.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _as_json_line(name: str, line: str) -> str | None:
    """Return ``line`` if it is a JSON object, else wrap it so stdout stays JSON lines."""
    if not line.strip():
        return None
    with contextlib.suppress(ValueError):
        if isinstance(json.loads(line), dict):
            return line
    wrapped = {"service": name, "level": "info", "event": "output", "line": mask(line)}
    return json.dumps(wrapped, ensure_ascii=False)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _exit_code(child: Child) -> int | None:
    return None if child.process is None else child.process.returncode


def _died_message(child: Child, var_dir: Path) -> str:
    return (
        f"{child.name} exited unexpectedly (exit code {_exit_code(child)}); "
        f"stopping the rest — see {var_dir}/logs/{child.name}.log"
    )


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()

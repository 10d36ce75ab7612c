"""Start and stop a local Redis Cluster of private ``redis-server`` processes (tests, issue 14).

N masters and N replicas by default (3 + 3), each node a :class:`RedisServer` in its own
directory on free ports, formed with ``redis-cli --cluster create`` and waited for until every
node says ``cluster_state:ok`` with all 16384 slots served and every replica's link is up.
``kill_master`` and ``wait_failover`` drive the failover tests: the killed master's slots must
move to one of its replicas and the cluster must be whole again.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import redis
from redis.crc import key_slot

from zhitong.redis_server import RedisServer, RedisServerError, free_port

CLUSTER_SLOTS = 16384
POLL_INTERVAL = 0.02


class RedisClusterError(RuntimeError):
    """Raise when the local cluster cannot be formed or does not recover in time."""


@dataclass(frozen=True)
class NodeView:
    """One node as a line of ``CLUSTER NODES`` describes it (seen from some node)."""

    node_id: str
    port: int
    flags: frozenset[str]
    master_id: str | None
    slots: tuple[tuple[int, int], ...]

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def failed(self) -> bool:
        return "fail" in self.flags

    def serves(self, slot: int) -> bool:
        return any(first <= slot <= last for first, last in self.slots)

    @classmethod
    def parse(cls, line: str) -> NodeView:
        """Return the view of one ``CLUSTER NODES`` line."""
        # <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>…
        parts = line.split()
        address = parts[1].split("@", 1)[0]
        slots: list[tuple[int, int]] = []
        for item in parts[8:]:
            if item.startswith("["):  # a slot being migrated or imported, not yet served
                continue
            first, _, last = item.partition("-")
            slots.append((int(first), int(last or first)))
        return cls(
            node_id=parts[0],
            port=int(address.rsplit(":", 1)[1]),
            flags=frozenset(parts[2].split(",")),
            master_id=None if parts[3] == "-" else parts[3],
            slots=tuple(slots),
        )


@dataclass
class ClusterNode:
    """One ``redis-server`` of the cluster, with its cluster bus port."""

    server: RedisServer
    bus_port: int
    node_id: str = ""

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        process = self.server.process
        return process is not None and process.poll() is None

    def client(self) -> redis.Redis:
        """Return a plain (non-cluster) client on this node only, decoding replies."""
        return redis.Redis(
            port=self.port, socket_connect_timeout=0.5, socket_timeout=2, decode_responses=True
        )

    def info(self, section: str) -> dict[str, str]:
        """Return ``CLUSTER INFO`` (``section="cluster"``) or an ``INFO`` section as text pairs."""
        with self.client() as client:
            raw = (
                client.execute_command("CLUSTER", "INFO")
                if section == "cluster"
                else client.execute_command("INFO", section)
            )
        # INFO may already be parsed by redis-py; CLUSTER INFO is one text block.
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        pairs = (line.split(":", 1) for line in str(raw).splitlines() if ":" in line)
        return {key: value.strip() for key, value in pairs}

    def topology(self) -> list[NodeView]:
        """Return every node as this node currently sees it."""
        with self.client() as client:
            raw = str(client.execute_command("CLUSTER", "NODES"))
        return [NodeView.parse(line) for line in raw.splitlines() if line.strip()]


@dataclass(frozen=True)
class Failover:
    """A finished failover: the killed master, the replica that took its slots, how long."""

    dead: ClusterNode
    promoted: ClusterNode
    seconds: float


@dataclass
class LocalRedisCluster:
    """Handle on a local Redis Cluster of ``masters`` masters with ``replicas`` replicas each."""

    data_dir: Path
    masters: int = 3
    replicas: int = 1
    node_timeout_ms: int = 2000
    appendfsync: str = "everysec"
    nodes: list[ClusterNode] = field(default_factory=list)
    # Per killed master: its slots and replicas when it died, and when (monotonic seconds).
    _killed: dict[str, tuple[NodeView, list[str], float]] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """Return the URL of a live node: a cluster client finds the others from it."""
        return self._live()[0].url

    def start(self, timeout: float = 30.0) -> LocalRedisCluster:
        """Start every node, form the cluster and return once it is whole."""
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RedisServerError(
                "redis-cli is not installed: it ships with redis-server "
                "(Debian: apt-get install -y redis-server)"
            )
        deadline = time.monotonic() + timeout
        try:
            for index in range(self.masters * (1 + self.replicas)):
                self.nodes.append(self._start_node(index, deadline))
            for node in self.nodes:
                with node.client() as client:
                    node.node_id = str(client.execute_command("CLUSTER", "MYID"))
            self._create(cli, deadline)
            self.wait_ok(timeout=max(0.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self, index: int, deadline: float) -> ClusterNode:
        bus_port = free_port()
        options = [
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            # Explicit: the default (port + 10000) can pass 65535 for an ephemeral port.
            "--cluster-port", str(bus_port),
            # A replica's first full sync starts at once, not after the default 5 s wait for
            # more replicas to share one transfer (each master here has one or two).
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        server = RedisServer(
            data_dir=self.data_dir / f"node-{index}",
            appendfsync=self.appendfsync,
            extra_args=tuple(options),
        )
        server.start(timeout=max(0.1, deadline - time.monotonic()))
        return ClusterNode(server=server, bus_port=bus_port)

    def _create(self, cli: str, deadline: float) -> None:
        args = [
            cli, "--cluster", "create", *(node.address for node in self.nodes),
            "--cluster-replicas", str(self.replicas), "--cluster-yes",
        ]  # fmt: skip
        try:
            # The arguments are our own (binary from PATH, addresses of nodes we started).
            done = subprocess.run(  # noqa: S603
                args,
                capture_output=True,
                text=True,
                timeout=max(0.1, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RedisClusterError("redis-cli --cluster create did not finish in time") from exc
        if done.returncode != 0 or "[OK] All 16384 slots covered" not in done.stdout:
            output = f"{done.stdout}{done.stderr}"
            raise RedisClusterError(f"redis-cli --cluster create failed:\n{output}")

    def stop(self) -> None:
        """Stop every node still running (SHUTDOWN flushes each AOF)."""
        for node in self.nodes:
            node.server.stop()

    def __enter__(self) -> LocalRedisCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def node(self, node_id: str) -> ClusterNode:
        """Return the node with this cluster id."""
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(node_id)

    def topology(self) -> list[NodeView]:
        """Return every node as the first live node sees it."""
        return self._live()[0].topology()

    def master_of_slot(self, slot: int) -> ClusterNode:
        """Return the live master serving ``slot`` now."""
        for view in self.topology():
            if view.is_master and not view.failed and view.serves(slot):
                return self.node(view.node_id)
        raise RedisClusterError(f"no live master serves slot {slot}")

    def master_of_key(self, key: str | bytes) -> ClusterNode:
        """Return the live master serving ``key``'s slot (its hash tag's, when it has one)."""
        return self.master_of_slot(key_slot(key.encode() if isinstance(key, str) else key))

    def current_masters(self) -> list[ClusterNode]:
        """Return the live masters that serve slots, in port order."""
        views = self.topology()
        ids = {v.node_id for v in views if v.is_master and not v.failed and v.slots}
        return sorted((self.node(i) for i in ids), key=lambda node: node.port)

    def replicas_of(self, master: ClusterNode) -> list[ClusterNode]:
        """Return the nodes replicating ``master`` now."""
        views = self.topology()
        return [self.node(v.node_id) for v in views if v.master_id == master.node_id]

    def kill_master(self, master: ClusterNode | None = None) -> ClusterNode:
        """Kill -9 ``master`` (default: the first master) and return it."""
        master = master or self.current_masters()[0]
        views = {v.node_id: v for v in self.topology()}
        if not views[master.node_id].is_master:
            raise RedisClusterError(f"node {master.address} is not a master")
        replicas = [i for i, v in views.items() if v.master_id == master.node_id]
        master.server.kill()
        self._killed[master.node_id] = (views[master.node_id], replicas, time.monotonic())
        return master

    def stop_node(self, node: ClusterNode) -> None:
        """Stop ``node`` cleanly (SIGTERM: it flushes its AOF before exiting)."""
        node.server.stop()

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Return once every live node serves all slots and every live replica's link is up."""
        _poll(self._whole, timeout, "the cluster did not become whole")

    def wait_failover(self, dead: ClusterNode, timeout: float = 30.0) -> Failover:
        """Return once one of ``dead``'s replicas serves its slots and the cluster is whole."""
        view, replicas, killed_at = self._killed[dead.node_id]
        if not view.slots:
            raise RedisClusterError(f"node {dead.address} served no slots when it was killed")
        first_slot = view.slots[0][0]

        def promoted() -> bool:
            owner = self.master_of_slot(first_slot)
            return owner.node_id in replicas and self._whole()

        _poll(promoted, timeout, f"no replica of {dead.address} took over its slots")
        return Failover(
            dead=dead,
            promoted=self.master_of_slot(first_slot),
            seconds=time.monotonic() - killed_at,
        )

    def _live(self) -> list[ClusterNode]:
        live = [node for node in self.nodes if node.alive]
        if not live:
            raise RedisClusterError("no node of the cluster is running")
        return live

    def _whole(self) -> bool:
        """Return whether every live node serves all slots and all agree on who replicates whom."""
        seen: set[frozenset[tuple[str, str | None]]] = set()
        for node in self._live():
            info = node.info("cluster")
            if info.get("cluster_state") != "ok":
                return False
            if info.get("cluster_slots_ok") != str(CLUSTER_SLOTS):
                return False
            if info.get("cluster_known_nodes") != str(len(self.nodes)):
                return False
            replication = node.info("replication")
            if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                return False
            roles = _roles(node.topology())
            if roles is None:
                return False
            seen.add(roles)
        # Gossip spreads roles node by node: one node may still take a new replica for a master.
        return len(seen) == 1


def _roles(views: list[NodeView]) -> frozenset[tuple[str, str | None]] | None:
    """Return (node, its master) per running node, or None while any role is unsettled."""
    roles: set[tuple[str, str | None]] = set()
    for view in views:
        if view.failed:
            continue
        if view.is_master and not view.slots:
            return None
        if not view.is_master and view.master_id is None:
            return None
        roles.add((view.node_id, view.master_id))
    return frozenset(roles)


def _poll(condition: Callable[[], bool], timeout: float, failure: str) -> None:
    """Return once ``condition`` holds; a node refusing or erring for now counts as not yet."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if condition():
                return
        except (redis.exceptions.RedisError, RedisClusterError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise RedisClusterError(f"{failure} within {timeout}s{detail}")
        time.sleep(POLL_INTERVAL)

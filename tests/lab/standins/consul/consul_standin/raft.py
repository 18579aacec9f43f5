"""Raft for the servers: pysyncobj does the consensus; this module wires it to Consul's
bootstrap rules, persists the peer set in the data dir and logs state changes the way
Consul's raft library does.
"""
import json
import os
import threading
import time

from pysyncobj import SyncObj, SyncObjConf, SyncObjException, FAIL_REASON
from pysyncobj.monotonic import monotonic as pysyncobj_monotonic

FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
STATE_NAMES = {FOLLOWER: "Follower", CANDIDATE: "Candidate", LEADER: "Leader"}


class NoLeader(Exception):
    pass


def peers_path(data_dir):
    return os.path.join(data_dir, "raft", "standin-peers.json")


def load_peers(data_dir):
    try:
        with open(peers_path(data_dir)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def save_peers(data_dir, peers):
    path = peers_path(data_dir)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(peers, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def clear_raft_dir(data_dir):
    for name in ("standin-peers.json", "journal.bin", "journal.bin.meta", "raft.dump"):
        try:
            os.remove(os.path.join(data_dir, "raft", name))
        except OSError:
            pass


class RaftNode:
    """One pysyncobj SyncObj per server; must be created from a long-lived thread."""

    def __init__(self, address, bind_host, data_dir, fsm, logger, describe_peer):
        self.address = address
        self.bind_host = bind_host
        self.data_dir = data_dir
        self.fsm = fsm
        self.logger = logger
        self.describe_peer = describe_peer  # address -> {"node":..., "id":...}
        self.sync = None
        self.known_peers = {}
        self.last_leader = None
        self.current_leader = None
        self.saved_peers = None
        self.leader_since = None
        self.lost_contact_at = time.monotonic()
        self.state = FOLLOWER
        self.lock = threading.Lock()
        self.listeners = []  # called with (event, payload) for leadership changes

    @property
    def started(self):
        return self.sync is not None

    def start(self, peer_addresses):
        os.makedirs(os.path.join(self.data_dir, "raft"), exist_ok=True)
        others = sorted(a for a in peer_addresses if a != self.address)
        conf = SyncObjConf(
            bindAddress="%s:%s" % (self.bind_host, self.address.rpartition(":")[2]),
            raftMinTimeout=0.4, raftMaxTimeout=1.0, appendEntriesPeriod=0.1,
            leaderFallbackTimeout=1.5, connectionRetryTime=0.5, connectionTimeout=3.5,
            dynamicMembershipChange=True, commandsWaitLeader=False, useFork=False,
            journalFile=os.path.join(self.data_dir, "raft", "journal.bin"),
            fullDumpFile=os.path.join(self.data_dir, "raft", "raft.dump"),
            logCompactionMinEntries=5000, logCompactionMinTime=600,
            onStateChanged=self._on_state_changed,
        )
        servers = ", ".join("{Suffrage:Voter ID:%s Address:%s}" % (self.describe_peer(a).get("id", ""), a)
                            for a in sorted([self.address] + others))
        self.logger.info("initial configuration", ("index", 1), ("servers", "[%s]" % servers))
        self.logger.info("entering follower state",
                         ("follower", "Node at %s [Follower]" % self.address), ("leader-address", ""), ("leader-id", ""))
        self.sync = SyncObj(self.address, others, conf=conf, consumers=[self.fsm])
        self.persist_peers()

    def destroy(self):
        if self.sync is not None:
            self.sync.destroy()

    # ------------------------------------------------------------ status
    def peer_addresses(self):
        if self.sync is None:
            return []
        return sorted([self.address] + [n.address for n in self.sync.otherNodes])

    def persist_peers(self):
        peers = []
        for addr in self.peer_addresses():
            info = self.describe_peer(addr) or {}
            remembered = self.known_peers.get(addr, {})
            peers.append({"address": addr, "id": info.get("id") or remembered.get("id", ""),
                          "node": info.get("node") or remembered.get("node", "")})
        if peers != self.saved_peers:
            self.known_peers = {p["address"]: p for p in peers}
            self.saved_peers = peers
            save_peers(self.data_dir, peers)

    def leader_address(self):
        if self.sync is None:
            return None
        leader = self.sync._getLeader()
        if leader is None:
            return None
        if not self.sync._isLeader():
            # pysyncobj keeps its last leader while it cannot reach anyone; Consul reports no leader
            # once heartbeats stop (the election deadline is pushed forward by every append_entries)
            deadline = getattr(self.sync, "_SyncObj__raftElectionDeadline", None)
            if deadline is not None and pysyncobj_monotonic() > deadline + 0.2:
                return None
        return leader.address

    def is_leader(self):
        return self.sync is not None and self.sync._isLeader()

    def last_contact(self):
        """Seconds since this server last heard from a leader (0 on the leader)."""
        if self.is_leader():
            return 0.0
        if self.leader_address():
            return 0.0
        return time.monotonic() - self.lost_contact_at

    def status(self):
        return self.sync.getStatus() if self.sync is not None else {}

    def match_index(self, address):
        """Last log index the leader knows a peer has (Consul's LastIndex)."""
        status = self.status()
        if address == self.address:
            return status.get("commit_idx", 0)
        return status.get("match_idx_server_%s" % address, 0)

    def last_response_age(self, address):
        if self.sync is None or address == self.address:
            return 0.0
        times = getattr(self.sync, "_SyncObj__lastResponseTime", {})
        for node, stamp in list(times.items()):
            if node.address == address:
                return max(0.0, time.monotonic() - stamp)
        return None

    # ------------------------------------------------------------ writes
    def apply(self, op, timeout=5.0):
        if self.sync is None or self.leader_address() is None:
            raise NoLeader("No cluster leader")
        try:
            return self.fsm.apply(op, sync=True, timeout=timeout)
        except SyncObjException as exc:
            if exc.errorCode in ("timeout",):
                raise NoLeader("timed out enqueuing operation")
            raise NoLeader("No cluster leader")

    def add_peer(self, address, done=None):
        result = {}
        event = threading.Event()

        def callback(res, err):
            result["err"] = err
            event.set()
        self.sync.addNodeToCluster(address, callback=callback)
        event.wait(5.0)
        return result.get("err") == FAIL_REASON.SUCCESS

    def remove_peer(self, address):
        result = {}
        event = threading.Event()

        def callback(res, err):
            result["err"] = err
            event.set()
        self.sync.removeNodeFromCluster(address, callback=callback)
        event.wait(5.0)
        return result.get("err") == FAIL_REASON.SUCCESS

    # ------------------------------------------------------------ logging of state changes
    def _on_state_changed(self, old, new):
        # called on pysyncobj's tick thread; keep it short
        self.state = new
        term = self.sync.raftCurrentTerm if self.sync is not None else 0
        if new == CANDIDATE:
            if old == FOLLOWER:
                self.logger.warn("heartbeat timeout reached, starting election",
                                 ("last-leader-addr", self.last_leader or ""),
                                 ("last-leader-id", self.describe_peer(self.last_leader).get("id", "") if self.last_leader else ""))
            self.logger.info("entering candidate state",
                             ("node", "Node at %s [Candidate]" % self.address), ("term", term + 1))
        elif new == LEADER:
            tally = getattr(self.sync, "_SyncObj__votesCount", 1)
            self.logger.info("election won", ("term", term), ("tally", tally))
            self.logger.info("entering leader state", ("leader", "Node at %s [Leader]" % self.address))
            for node in sorted(n.address for n in self.sync.otherNodes):
                self.logger.info("added peer, starting replication", ("peer", self.describe_peer(node).get("id", node)))
        elif new == FOLLOWER:
            if old == LEADER:
                self.logger.warn("failed to contact quorum of nodes, stepping down")
            self.logger.info("entering follower state",
                             ("follower", "Node at %s [Follower]" % self.address), ("leader-address", ""), ("leader-id", ""))
        for listener in list(self.listeners):
            listener("state", (old, new))

    def watch(self):
        """Called periodically: notices leader changes (pysyncobj has no callback for them)."""
        leader = self.leader_address()
        if leader != self.current_leader:
            self.current_leader = leader
            if leader is None:
                self.lost_contact_at = time.monotonic()
            else:
                self.last_leader = leader
                self.leader_since = time.monotonic()
            for listener in list(self.listeners):
                listener("leader", leader)
        if self.sync is not None:
            self.persist_peers()

"""Membership pools (LAN and WAN) standing in for serf/memberlist.

Each agent pings every known member once a second over HTTP on the serf port and
push-pulls the member list with one random member per round.  A member that does not
answer for `suspect_after` seconds is failed; a member says itself when it leaves.
Different gossip keys refuse each other, as with Consul's -encrypt.
"""
import concurrent.futures
import hashlib
import random
import threading
import time

from . import wire

STATUS_CODES = {"none": 0, "alive": 1, "leaving": 2, "left": 3, "failed": 4}
NO_KEYS = "No installed keys could decrypt the message"


def key_fingerprint(key):
    if not key:
        return ""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def key_mismatch_error(local_fp, remote_fp):
    if local_fp == remote_fp:
        return None
    if local_fp and not remote_fp:
        return "Encryption is configured but remote state is not encrypted"
    if remote_fp and not local_fp:
        return "Remote state is encrypted and encryption is not configured"
    return NO_KEYS


class Pool:
    def __init__(self, kind, local, key, logger, memberlist_logger, dc_check=None,
                 probe_interval=1.0, suspect_after=2.5, probe_timeout=0.8):
        self.kind = kind  # "lan" or "wan"
        self.logger = logger
        self.memberlist_logger = memberlist_logger
        self.fingerprint = key_fingerprint(key)
        self.dc_check = dc_check
        self.probe_interval = probe_interval
        self.suspect_after = suspect_after
        self.probe_timeout = probe_timeout
        self.lock = threading.RLock()
        local = dict(local, status="alive", incarnation=int(time.time() * 1000), failed=False)
        self.local_name = local["name"]
        self.members = {local["name"]: local}
        self.fail_since = {}
        self.listeners = []
        self.stopped = threading.Event()
        self.left = False
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="serf-" + kind)

    # ------------------------------------------------------------ state
    def headers(self):
        return {"X-Standin-Gossip": self.fingerprint}

    def local(self):
        with self.lock:
            return dict(self.members[self.local_name])

    def update_local(self, tags=None, meta=None):
        with self.lock:
            me = self.members[self.local_name]
            changed = False
            if tags is not None and tags != me["tags"]:
                me["tags"] = dict(tags)
                changed = True
            if meta is not None and meta != me.get("meta"):
                me["meta"] = dict(meta)
                changed = True
            if changed:
                me["incarnation"] += 1

    def status_of(self, member):
        if member.get("failed") and member["status"] in ("alive", "leaving"):
            return "failed"
        return member["status"]

    def snapshot(self):
        with self.lock:
            out = []
            for m in self.members.values():
                item = dict(m)
                item["tags"] = dict(m["tags"])
                item["meta"] = dict(m.get("meta") or {})
                item["effective_status"] = self.status_of(m)
                out.append(item)
        return sorted(out, key=lambda m: m["name"])

    def alive(self):
        return [m for m in self.snapshot() if m["effective_status"] == "alive"]

    def gossip_records(self):
        with self.lock:
            return [dict(m) for m in self.members.values()]

    def _emit(self, event, member):
        for listener in list(self.listeners):
            try:
                listener(self.kind, event, dict(member))
            except Exception as exc:  # a listener must not stop gossip
                self.logger.error("event handler failed", error=str(exc))

    def _log_event(self, event, member):
        names = {"join": "EventMemberJoin", "leave": "EventMemberLeave", "failed": "EventMemberFailed",
                 "update": "EventMemberUpdate"}
        if event == "update":
            self.logger.info("serf: %s: %s" % (names[event], member["name"]))
        else:
            self.logger.info("serf: %s: %s %s" % (names[event], member["name"], member["addr"]))

    def merge(self, records, direct=False):
        """Take newer incarnations from gossip; `direct` records come from the member itself."""
        events = []
        with self.lock:
            for rec in records or []:
                name = rec.get("name")
                if not name or name == self.local_name:
                    continue
                known = self.members.get(name)
                if known is None:
                    if rec.get("status") == "left" and not direct:
                        # a member we never saw that already left: keep it as left, silently
                        self.members[name] = dict(rec, failed=False)
                        continue
                    new = dict(rec, failed=bool(rec.get("failed")) and not direct)
                    self.members[name] = new
                    events.append(("join" if self.status_of(new) == "alive" else None, new))
                    continue
                before = self.status_of(known)
                if rec.get("incarnation", 0) > known.get("incarnation", 0):
                    tags_changed = rec.get("tags") != known.get("tags")
                    for field in ("addr", "port", "tags", "status", "incarnation", "meta", "dc"):
                        if field in rec:
                            known[field] = rec[field]
                    if direct:
                        known["failed"] = False
                    after = self.status_of(known)
                    if before != after:
                        events.append((self._transition(after), known))
                    elif tags_changed:
                        events.append(("update", known))
                elif direct and known.get("failed"):
                    known["failed"] = False
                    events.append((self._transition(self.status_of(known)), known))
                if direct:
                    self.fail_since.pop(name, None)
        for event, member in events:
            if event:
                self._log_event(event, member)
                self._emit(event, member)

    @staticmethod
    def _transition(status):
        return {"alive": "join", "left": "leave", "leaving": "leave", "failed": "failed"}.get(status)

    # ------------------------------------------------------------ incoming
    def check_incoming(self, headers, source):
        error = key_mismatch_error(self.fingerprint, headers.get("X-Standin-Gossip", ""))
        if error:
            self.memberlist_logger.error("memberlist: failed to receive: %s" % error, ("from", source))
        return error

    def handle_join(self, body):
        member = body.get("member") or {}
        if self.dc_check:
            error = self.dc_check(member)
            if error:
                return None, error
        self.merge([member], direct=True)
        self.merge(body.get("members"))
        # spread the news now rather than at the next gossip round
        self.executor.submit(self._push_to_all, member.get("name"))
        return {"members": self.gossip_records()}, None

    def _push_to_all(self, skip):
        with self.lock:
            targets = [dict(m) for n, m in self.members.items()
                       if n not in (self.local_name, skip) and self.status_of(m) == "alive"]
        for peer in targets:
            try:
                reply = self._send(peer["addr"], peer["port"], "pushpull",
                                   {"member": self.local(), "members": self.gossip_records()})
                self.merge(reply.get("members"))
            except wire.WireError:
                pass

    def handle_ping(self, body):
        if body and body.get("member"):
            self.merge([body["member"]], direct=True)
        return {"member": self.local()}

    def handle_pushpull(self, body):
        self.merge([body.get("member")], direct=True)
        self.merge(body.get("members"))
        return {"members": self.gossip_records()}

    def handle_leave(self, body):
        self.merge([body.get("member")], direct=True)
        return {}

    # ------------------------------------------------------------ outgoing
    def _send(self, addr, port, path, body, timeout=None):
        return wire.call(addr, port, "/v1/internal/serf/%s/%s" % (self.kind, path), body,
                         timeout=timeout or self.probe_timeout, headers=self.headers())

    def join(self, addresses, default_port):
        """Join through each address; returns (number joined, [error strings])."""
        joined, errors = 0, []
        for text in addresses:
            from .util import split_host_port
            host, port = split_host_port(text, default_port)
            try:
                reply = self._send(host, port, "join", {"member": self.local(), "members": self.gossip_records()},
                                   timeout=2.0)
            except wire.WireError as exc:
                errors.append("Failed to join %s:%d: %s" % (host, port, exc))
                continue
            self.merge(reply.get("members"))
            joined += 1
        return joined, errors

    def _probe(self, member):
        try:
            reply = self._send(member["addr"], member["port"], "ping", {"member": self.local()})
        except wire.WireError:
            return member["name"], None
        return member["name"], reply.get("member")

    def probe_round(self):
        with self.lock:
            targets = [dict(m) for n, m in self.members.items()
                       if n != self.local_name and m["status"] in ("alive", "leaving")]
        futures = [self.executor.submit(self._probe, m) for m in targets]
        now = time.monotonic()
        for future in futures:
            try:
                name, record = future.result(timeout=self.probe_timeout + 1.0)
            except Exception:
                continue
            if record is not None:
                if record.get("name") == name:
                    self.merge([record], direct=True)
                continue
            self._probe_failed(name, now)
        alive = [m for m in targets if not m.get("failed")]
        if alive:
            peer = random.choice(alive)
            try:
                reply = self._send(peer["addr"], peer["port"], "pushpull",
                                   {"member": self.local(), "members": self.gossip_records()})
                self.merge(reply.get("members"))
            except wire.WireError:
                pass

    def _probe_failed(self, name, now):
        with self.lock:
            member = self.members.get(name)
            if member is None or member.get("failed"):
                return
            first = self.fail_since.setdefault(name, now)
            if now - first < self.suspect_after:
                return
            member["failed"] = True
            snapshot = dict(member)
        self.memberlist_logger.info("memberlist: Suspect %s has failed, no acks received" % name)
        self._log_event("failed", snapshot)
        self._emit("failed", snapshot)

    def run(self):
        while not self.stopped.wait(self.probe_interval):
            try:
                self.probe_round()
            except Exception as exc:
                self.logger.error("probe round failed", error=str(exc))

    def start(self):
        thread = threading.Thread(target=self.run, name="serf-" + self.kind, daemon=True)
        thread.start()

    def leave(self, timeout=2.0):
        """Tell every reachable member that this agent left, then stop probing."""
        with self.lock:
            me = self.members[self.local_name]
            me["status"] = "left"
            me["incarnation"] += 1
            record = dict(me)
            targets = [dict(m) for n, m in self.members.items()
                       if n != self.local_name and self.status_of(m) == "alive"]
        self.left = True
        self._log_event("leave", record)
        futures = [self.executor.submit(self._send, m["addr"], m["port"], "leave", {"member": record}, timeout)
                   for m in targets]
        concurrent.futures.wait(futures, timeout=timeout + 0.5)
        self.stopped.set()

    def stop(self):
        self.stopped.set()

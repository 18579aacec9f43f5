"""The replicated catalog: a deterministic state machine applied through pysyncobj's Raft log.

`data` is plain JSON-like data so pysyncobj can pickle it into its dump file; every
operation carries its own inputs (no clocks, no randomness) so each server reaches the
same state.  Query helpers render Consul's HTTP API shapes.
"""
import copy
import threading

from pysyncobj import SyncObjConsumer, replicated

PROXY_DEFAULT = {"Mode": "", "MeshGateway": {}, "Expose": {}}
HEALTH_ORDER = {"passing": 0, "warning": 1, "critical": 2, "maintenance": 3}


def empty_state():
    return {"index": 1, "nodes": {}, "services": {}, "checks": {}, "acl_tokens": {}}


def _without_indexes(record):
    return {k: v for k, v in record.items() if k not in ("CreateIndex", "ModifyIndex")}


def _same(old, new):
    return _without_indexes(old) == _without_indexes(new)


def _upsert(table, key, record, index):
    """Insert or update; returns True when something changed."""
    old = table.get(key)
    if old is not None and _same(old, record):
        return False
    record = dict(record)
    record["CreateIndex"] = old["CreateIndex"] if old is not None else index
    record["ModifyIndex"] = index
    table[key] = record
    return True


def apply_op(data, op):
    """Apply one log entry; returns the (possibly unchanged) catalog index."""
    kind = op.get("op")
    next_index = data["index"] + 1
    changed = False
    if kind == "register":
        changed = _register(data, op, next_index)
    elif kind == "deregister":
        changed = _deregister(data, op)
    elif kind == "acl_bootstrap":
        if not data["acl_tokens"]:
            token = dict(op["token"])
            token["CreateIndex"] = token["ModifyIndex"] = next_index
            data["acl_tokens"][token["SecretID"]] = token
            changed = True
    if changed:
        data["index"] = next_index
    return data["index"]


def _register(data, op, index):
    node = op["node"]
    name = node["Node"]
    changed = False
    existing = data["nodes"].get(name)
    if existing is None or not op.get("skip_node_update"):
        record = {
            "ID": node.get("ID", existing.get("ID", "") if existing else ""),
            "Node": name,
            "Address": node.get("Address", ""),
            "Datacenter": node.get("Datacenter", ""),
            "TaggedAddresses": node.get("TaggedAddresses") or {},
            "Meta": node.get("Meta") or {},
        }
        changed |= _upsert(data["nodes"], name, record, index)
    services = data["services"].setdefault(name, {})
    checks = data["checks"].setdefault(name, {})
    service = op.get("service")
    if service:
        record = dict(service)
        changed |= _upsert(services, record["ID"], record, index)
        # checks carry the service's current name and tags
        for check in checks.values():
            if check.get("ServiceID") == record["ID"]:
                updated = dict(check, ServiceName=record["Service"], ServiceTags=list(record.get("Tags") or []))
                changed |= _upsert(checks, check["CheckID"], updated, index)
    for check in op.get("checks") or []:
        record = dict(check)
        record["Node"] = name
        sid = record.get("ServiceID") or ""
        if sid and sid in services:
            record["ServiceName"] = services[sid]["Service"]
            record["ServiceTags"] = list(services[sid].get("Tags") or [])
        changed |= _upsert(checks, record["CheckID"], record, index)
    return changed


def _deregister(data, op):
    name = op["node"]
    if name not in data["nodes"]:
        return False
    sid, cid = op.get("service_id"), op.get("check_id")
    if not sid and not cid:
        data["nodes"].pop(name, None)
        data["services"].pop(name, None)
        data["checks"].pop(name, None)
        return True
    changed = False
    if sid:
        if data["services"].get(name, {}).pop(sid, None) is not None:
            changed = True
        for key in [k for k, c in data["checks"].get(name, {}).items() if c.get("ServiceID") == sid]:
            data["checks"][name].pop(key)
            changed = True
    if cid and data["checks"].get(name, {}).pop(cid, None) is not None:
        changed = True
    return changed


class CatalogFSM(SyncObjConsumer):
    """pysyncobj consumer holding the catalog; reads copy under a lock."""

    def __init__(self):
        # Created before SyncObjConsumer.__init__ so pysyncobj leaves them out of its dumps.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        super().__init__()
        self.data = empty_state()

    @replicated
    def apply(self, op):
        with self._lock:
            index = apply_op(self.data, op)
            self._changed.notify_all()
            return index

    def _deserialize(self, data):
        with self._lock:
            super()._deserialize(data)
            self._changed.notify_all()

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self.data)

    def index(self):
        with self._lock:
            return self.data["index"]

    def wait_for_change(self, min_index, timeout):
        """Blocking-query support: wait until the index passes min_index or the wait ends."""
        with self._changed:
            if self.data["index"] > min_index:
                return
            self._changed.wait(timeout)


# ---------------------------------------------------------------- rendering (pure)

def render_node(node):
    return {
        "ID": node.get("ID", ""), "Node": node["Node"], "Address": node.get("Address", ""),
        "Datacenter": node.get("Datacenter", ""), "TaggedAddresses": node.get("TaggedAddresses") or {},
        "Meta": node.get("Meta") or {}, "CreateIndex": node["CreateIndex"], "ModifyIndex": node["ModifyIndex"],
    }


def render_service(svc):
    out = {
        "ID": svc["ID"], "Service": svc["Service"], "Tags": list(svc.get("Tags") or []),
        "Address": svc.get("Address", ""),
    }
    if svc.get("TaggedAddresses"):
        out["TaggedAddresses"] = svc["TaggedAddresses"]
    out.update({
        "Meta": svc.get("Meta") or {}, "Port": svc.get("Port", 0),
        "Weights": svc.get("Weights") or {"Passing": 1, "Warning": 1},
        "EnableTagOverride": bool(svc.get("EnableTagOverride", False)),
        "Proxy": copy.deepcopy(PROXY_DEFAULT), "Connect": {}, "PeerName": "",
        "CreateIndex": svc["CreateIndex"], "ModifyIndex": svc["ModifyIndex"],
    })
    return out


def render_check(check):
    return {
        "Node": check["Node"], "CheckID": check["CheckID"], "Name": check.get("Name", ""),
        "Status": check.get("Status", "critical"), "Notes": check.get("Notes", ""),
        "Output": check.get("Output", ""), "ServiceID": check.get("ServiceID", ""),
        "ServiceName": check.get("ServiceName", ""), "ServiceTags": list(check.get("ServiceTags") or []),
        "Type": check.get("Type", ""), "Interval": check.get("Interval", ""), "Timeout": check.get("Timeout", ""),
        "ExposedPort": 0, "Definition": check.get("Definition") or {},
        "CreateIndex": check["CreateIndex"], "ModifyIndex": check["ModifyIndex"],
    }


def render_service_node(node, svc):
    out = {
        "ID": node.get("ID", ""), "Node": node["Node"], "Address": node.get("Address", ""),
        "Datacenter": node.get("Datacenter", ""), "TaggedAddresses": node.get("TaggedAddresses") or {},
        "NodeMeta": node.get("Meta") or {}, "ServiceKind": "", "ServiceID": svc["ID"],
        "ServiceName": svc["Service"], "ServiceTags": list(svc.get("Tags") or []),
        "ServiceAddress": svc.get("Address", ""),
    }
    if svc.get("TaggedAddresses"):
        out["ServiceTaggedAddresses"] = svc["TaggedAddresses"]
    out.update({
        "ServiceWeights": svc.get("Weights") or {"Passing": 1, "Warning": 1},
        "ServiceMeta": svc.get("Meta") or {}, "ServicePort": svc.get("Port", 0), "ServiceSocketPath": "",
        "ServiceEnableTagOverride": bool(svc.get("EnableTagOverride", False)),
        "ServiceProxy": copy.deepcopy(PROXY_DEFAULT), "ServiceConnect": {}, "ServiceLocality": None,
        "CreateIndex": svc["CreateIndex"], "ModifyIndex": svc["ModifyIndex"],
    })
    return out


def _node_matches_meta(node, node_meta):
    meta = node.get("Meta") or {}
    return all(meta.get(k) == v for k, v in (node_meta or {}).items())


def query_nodes(data, node_meta=None):
    return [render_node(n) for _name, n in sorted(data["nodes"].items()) if _node_matches_meta(n, node_meta)]


def query_services(data, node_meta=None):
    result = {}
    for node_name, services in sorted(data["services"].items()):
        node = data["nodes"].get(node_name)
        if node is None or not _node_matches_meta(node, node_meta):
            continue
        for svc in services.values():
            tags = result.setdefault(svc["Service"], [])
            for tag in svc.get("Tags") or []:
                if tag not in tags:
                    tags.append(tag)
    return {name: sorted(tags) for name, tags in sorted(result.items())}


def _instances(data, name, tags=()):
    for node_name in sorted(data["services"]):
        node = data["nodes"].get(node_name)
        if node is None:
            continue
        for sid in sorted(data["services"][node_name]):
            svc = data["services"][node_name][sid]
            if svc["Service"] != name:
                continue
            if any(tag not in (svc.get("Tags") or []) for tag in tags):
                continue
            yield node, svc


def query_service_nodes(data, name, tags=(), node_meta=None):
    return [render_service_node(node, svc) for node, svc in _instances(data, name, tags)
            if _node_matches_meta(node, node_meta)]


def instance_checks(data, node_name, sid):
    checks = data["checks"].get(node_name, {})
    return [checks[cid] for cid in sorted(checks)
            if not checks[cid].get("ServiceID") or checks[cid].get("ServiceID") == sid]


def query_health_service(data, name, tags=(), passing=False, node_meta=None):
    entries = []
    for node, svc in _instances(data, name, tags):
        if not _node_matches_meta(node, node_meta):
            continue
        checks = instance_checks(data, node["Node"], svc["ID"])
        if passing and any(c.get("Status") != "passing" for c in checks):
            continue
        entries.append({"Node": render_node(node), "Service": render_service(svc),
                        "Checks": [render_check(c) for c in checks]})
    return entries


def all_checks(data):
    for node_name in sorted(data["checks"]):
        for cid in sorted(data["checks"][node_name]):
            yield data["checks"][node_name][cid]


def query_health_state(data, state):
    return [render_check(c) for c in all_checks(data) if state == "any" or c.get("Status") == state]


def query_health_checks(data, service):
    return [render_check(c) for c in all_checks(data) if c.get("ServiceName") == service and c.get("ServiceID")]


def query_health_node(data, node):
    return [render_check(c) for c in all_checks(data) if c["Node"] == node]


def query_node_services(data, node_name):
    node = data["nodes"].get(node_name)
    if node is None:
        return None
    services = data["services"].get(node_name, {})
    return {"Node": render_node(node), "Services": {sid: render_service(s) for sid, s in sorted(services.items())}}


def worst_status(statuses):
    worst = "passing"
    for status in statuses:
        if HEALTH_ORDER.get(status, 2) > HEALTH_ORDER[worst]:
            worst = status
    return worst

"""The data-dir copy of services and checks registered through the agent's HTTP API, as Consul keeps it
(agent/agent.go: persistService, persistCheck, persistCheckState, loadServices, loadChecks, loadCheckState).

    <data-dir>/services/<sha256(service ID)>     {"Token", "Service", "Source"}
    <data-dir>/checks/<sha256(check ID)>         {"Check", "ChkType", "Token", "Source"}
    <data-dir>/checks/state/<sha256(check ID)>   {"CheckID", "Status", "Output", "Expires"}  (TTL checks only)
"""
import hashlib
import json
import os
import time
import uuid

SERVICES_DIR = "services"
CHECKS_DIR = "checks"
CHECK_STATE_DIR = os.path.join("checks", "state")
# Consul's configSource of agent-API registrations; config files are "local" and never persisted
SOURCE = "remote"


def file_name(ident):
    """Consul's StringHashSHA256(): hex SHA-256 of the ID (the enterprise meta adds nothing outside Enterprise)."""
    return hashlib.sha256(ident.encode()).hexdigest()


def write_atomic(path, record, sync=True):
    """lib/file.WriteAtomic: a 0600 temp file beside the target, fsync, rename; missing directories are made 0700."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temp = "%s-%s.tmp" % (path, uuid.uuid4())
    try:
        with os.fdopen(os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(record, handle)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError:
        _remove(temp)
        raise


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class Store:
    """Does nothing without a data dir: like Consul (`DataDir == ""`), a -dev agent keeps registrations in memory."""

    def __init__(self, data_dir, log):
        self.data_dir = data_dir
        self.log = log

    def _path(self, subdir, ident):
        return os.path.join(self.data_dir, subdir, file_name(ident))

    def save_service(self, service, token):
        if self.data_dir:
            write_atomic(self._path(SERVICES_DIR, service["ID"]), {"Token": token, "Service": service, "Source": SOURCE})

    def save_check(self, check, chk_type, token, source=SOURCE):
        """source: "remote" for agent-API checks, "local" for the maintenance check (AddCheck with ConfigSourceLocal)."""
        if self.data_dir:
            write_atomic(self._path(CHECKS_DIR, check["CheckID"]),
                         {"Check": check, "ChkType": chk_type, "Token": token, "Source": source})

    def purge_service(self, sid):
        if self.data_dir:
            _remove(self._path(SERVICES_DIR, sid))

    def purge_check(self, cid):
        """removeCheckLocked purges the definition and the TTL state together."""
        if self.data_dir:
            _remove(self._path(CHECKS_DIR, cid))
            _remove(self._path(CHECK_STATE_DIR, cid))

    def save_check_state(self, cid, status, output, ttl):
        """updateTTLCheck: the state outlives a restart until the TTL would have run out. Written often, so no fsync."""
        if self.data_dir:
            write_atomic(self._path(CHECK_STATE_DIR, cid), {"CheckID": cid, "Status": status, "Output": output,
                                                            "Expires": int(time.time() + ttl)}, sync=False)

    def check_state(self, cid):
        """loadCheckState: (status, output) of a TTL check while it has not expired; expired or unreadable is purged."""
        if not self.data_dir:
            return None
        path = self._path(CHECK_STATE_DIR, cid)
        try:
            with open(path) as handle:
                state = json.load(handle)
            status, output, expires = state["Status"], state["Output"], state["Expires"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.log.error("failed decoding check state", error=str(exc))
            _remove(path)
            return None
        if time.time() >= expires:
            self.log.debug("check state expired, not restoring", check=cid)
            _remove(path)
            return None
        return status, output

    def services(self):
        return self._records(SERVICES_DIR, "service")

    def checks(self):
        return self._records(CHECKS_DIR, "check")

    def _records(self, subdir, kind):
        """(path, decoded record) per file; sub-directories (checks/state) are skipped, unfinished writes too."""
        if not self.data_dir:
            return []
        directory = os.path.join(self.data_dir, subdir)
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return []
        records = []
        for name in names:
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            if name.endswith("tmp"):
                self.log.warn("Ignoring temporary %s file" % kind, file=name)
                continue
            try:
                with open(path) as handle:
                    records.append((path, json.load(handle)))
            except (OSError, ValueError) as exc:
                self.log.error("Failed decoding %s file" % kind, file=path, error=str(exc))
        return records

"""Service and check definitions from registration bodies (CamelCase or snake_case), as Consul accepts them."""
from .util import canonical_key, format_duration, parse_duration

SERVICE_FIELDS = ("ID", "Name", "Tags", "Address", "Meta", "Port", "Kind", "EnableTagOverride", "Weights",
                  "TaggedAddresses", "Check", "Checks", "Token", "Proxy", "Connect", "SocketPath", "Namespace",
                  "Partition", "Locality")
CHECK_FIELDS = ("CheckID", "ID", "Name", "Notes", "Status", "ServiceID", "HTTP", "Method", "Header", "Body",
                "TLSSkipVerify", "TLSServerName", "TCP", "TCPUseTLS", "UDP", "TTL", "Interval", "Timeout",
                "DeregisterCriticalServiceAfter", "Args", "ScriptArgs", "GRPC", "GRPCUseTLS", "H2PING",
                "DockerContainerID", "Shell", "AliasNode", "AliasService", "OutputMaxSize",
                "SuccessBeforePassing", "FailuresBeforeWarning", "FailuresBeforeCritical", "DisableRedirects",
                "Definition")
# user maps whose keys must not be translated
VERBATIM = ("Meta", "Header", "TaggedAddresses", "Proxy", "Connect")
STATUSES = ("passing", "warning", "critical", "maintenance")


class InvalidDefinition(Exception):
    """A 400 Bad Request with Consul's wording."""


def _translate(data, fields):
    if not isinstance(data, dict):
        raise InvalidDefinition("Request decode failed: json: cannot unmarshal into a definition")
    table = {canonical_key(f): f for f in fields}
    out = {}
    for key, value in data.items():
        out[table.get(canonical_key(key), key)] = value
    return out


def parse_service(body, datacenter):
    """Returns (service record, [check records]) in the agent's stored form."""
    raw = _translate(body, SERVICE_FIELDS)
    name = raw.get("Name")
    if not name:
        raise InvalidDefinition("Invalid Service: Missing service name")
    if not isinstance(name, str):
        raise InvalidDefinition("Request decode failed: Name must be a string")
    sid = raw.get("ID") or name
    port = raw.get("Port") or 0
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise InvalidDefinition("Request decode failed: json: cannot unmarshal string into Go struct field .Port of type int")
    weights = raw.get("Weights") or {}
    weights = _translate(weights, ("Passing", "Warning")) if weights else {}
    tags = raw.get("Tags") or []
    if not isinstance(tags, list):
        raise InvalidDefinition("Request decode failed: Tags must be a list")
    service = {
        "ID": str(sid), "Service": name, "Tags": [str(t) for t in tags],
        "Meta": {str(k): str(v) for k, v in (raw.get("Meta") or {}).items()},
        "Port": port, "Address": str(raw.get("Address") or ""),
        "Weights": {"Passing": int(weights.get("Passing", 1) or 1), "Warning": int(weights.get("Warning", 1) or 1)},
        "EnableTagOverride": bool(raw.get("EnableTagOverride", False)),
    }
    if raw.get("TaggedAddresses"):
        service["TaggedAddresses"] = raw["TaggedAddresses"]
    elif service["Address"]:
        service["TaggedAddresses"] = {
            "lan_ipv4": {"Address": service["Address"], "Port": port},
            "wan_ipv4": {"Address": service["Address"], "Port": port},
        }
    check_bodies = []
    if raw.get("Check"):
        check_bodies.append(raw["Check"])
    for item in raw.get("Checks") or []:
        check_bodies.append(item)
    checks = []
    for number, check_body in enumerate(check_bodies, start=1):
        default_id = "service:%s" % sid if len(check_bodies) == 1 else "service:%s:%d" % (sid, number)
        check = parse_check(check_body, default_id=default_id, default_name="Service '%s' check" % name,
                            service=service)
        checks.append(check)
    return service, checks


def parse_check(body, default_id=None, default_name=None, service=None):
    raw = _translate(body, CHECK_FIELDS)
    cid = raw.get("CheckID") or raw.get("ID") or default_id or raw.get("Name")
    name = raw.get("Name") or default_name
    if not name:
        raise InvalidDefinition("Missing check name")
    if not cid:
        cid = name
    status = raw.get("Status") or "critical"
    if status not in STATUSES:
        raise InvalidDefinition("Invalid check status: %s" % status)
    try:
        interval = parse_duration(raw.get("Interval"))
        timeout = parse_duration(raw.get("Timeout"))
        ttl = parse_duration(raw.get("TTL"))
        deregister_after = parse_duration(raw.get("DeregisterCriticalServiceAfter"))
    except ValueError as exc:
        raise InvalidDefinition("Request decode failed: %s" % exc)
    if raw.get("Args") or raw.get("ScriptArgs"):
        raise InvalidDefinition("Scripts are disabled on this agent; to enable, configure 'enable_script_checks' "
                                "or 'enable_local_script_checks' to true")
    if raw.get("HTTP"):
        kind = "http"
    elif raw.get("TCP"):
        kind = "tcp"
    elif ttl > 0:
        kind = "ttl"
    elif raw.get("TTL") is not None or not interval:
        raise InvalidDefinition("Invalid check: TTL must be > 0 for TTL checks")
    else:
        raise InvalidDefinition("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks")
    if kind in ("http", "tcp") and interval <= 0:
        raise InvalidDefinition("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks")
    if kind in ("http", "tcp") and 0 < interval < 1.0:
        interval = 1.0  # Consul's minimum check interval
    headers = raw.get("Header") or {}
    headers = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in headers.items()}
    sid = raw.get("ServiceID") or (service["ID"] if service else "")
    definition = {
        "Interval": format_duration(interval), "Timeout": format_duration(timeout),
        "DeregisterCriticalServiceAfter": format_duration(deregister_after),
        "HTTP": str(raw.get("HTTP") or ""), "Header": headers or None, "Method": str(raw.get("Method") or ""),
        "Body": str(raw.get("Body") or ""), "TLSServerName": str(raw.get("TLSServerName") or ""),
        "TLSSkipVerify": bool(raw.get("TLSSkipVerify", False)), "TCP": str(raw.get("TCP") or ""),
        "TCPUseTLS": False, "UDP": "", "GRPC": "", "OSService": "", "GRPCUseTLS": False,
    }
    return {
        "CheckID": str(cid), "Name": str(name), "Status": status, "Notes": str(raw.get("Notes") or ""),
        "Output": "", "ServiceID": str(sid), "ServiceName": service["Service"] if service else "",
        "ServiceTags": list(service["Tags"]) if service else [], "Type": kind,
        "Interval": format_duration(interval) if kind != "ttl" else "",
        "Timeout": format_duration(timeout) if kind != "ttl" and timeout else "",
        "Definition": definition,
        # runtime settings kept beside the public fields
        "_interval": interval, "_timeout": timeout or 10.0, "_ttl": ttl,
        "_deregister_after": deregister_after, "_status_given": bool(raw.get("Status")),
    }


def public_check(check):
    return {k: v for k, v in check.items() if not k.startswith("_")}


def bare_check(health):
    """A persisted HealthCheck that has no CheckType (Consul writes `"ChkType": null`, as for the maintenance check):
    loadChecks restores it as it is, critical, with nothing that runs it."""
    if not isinstance(health, dict) or not health.get("CheckID"):
        raise InvalidDefinition("check without CheckID")
    return {
        "CheckID": str(health["CheckID"]), "Name": str(health.get("Name") or ""), "Status": "critical",
        "Notes": str(health.get("Notes") or ""), "Output": str(health.get("Output") or ""),
        "ServiceID": str(health.get("ServiceID") or ""), "ServiceName": str(health.get("ServiceName") or ""),
        "ServiceTags": list(health.get("ServiceTags") or []), "Type": str(health.get("Type") or ""),
        "Interval": "", "Timeout": "", "Definition": {},
        "_interval": 0.0, "_timeout": 0.0, "_ttl": 0.0, "_deregister_after": 0.0, "_status_given": True,
    }


def check_type(check):
    """The CheckType Consul persists beside the HealthCheck: what parse_check needs to build the check again.
    It has no Status: Consul restores every persisted check as critical (loadChecks). A check nothing runs (the
    maintenance check) has none: null."""
    if check["Type"] not in ("http", "tcp", "ttl"):
        return None
    definition = check["Definition"]
    out = {"CheckID": check["CheckID"], "Name": check["Name"], "Notes": check["Notes"],
           "DeregisterCriticalServiceAfter": definition["DeregisterCriticalServiceAfter"]}
    if check["Type"] == "ttl":
        out["TTL"] = format_duration(check["_ttl"])
    else:
        for key in ("HTTP", "Header", "Method", "Body", "TLSSkipVerify", "TLSServerName", "TCP", "Interval", "Timeout"):
            out[key] = definition[key]
    return out

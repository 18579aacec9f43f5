"""Every key a Consul 1.20 agent config file accepts, so that unknown ones are refused as Consul refuses them.

Source: hashicorp/consul agent/config/config.go (the `mapstructure` tags of Config, ACL, Tokens, Ports, Addresses,
RawUIConfig, ServiceDefinition, CheckDefinition, ServiceWeights, ServiceAddress) and agent/config/deprecated.go
(DeprecatedConfig, DeprecatedTokens). Consul's decoder (mapstructure) matches keys case-insensitively, and
lib/decode.HookTranslateKeys first renames the `alias` spellings. Keys are checked down to the blocks the stand-in
reads; below a block it does not implement (tls, telemetry, performance, connect, ...) anything is accepted.
"""

TOP_LEVEL = frozenset("""
acl addresses advertise_addr advertise_addr_ipv4 advertise_addr_ipv6 advertise_addr_wan advertise_addr_wan_ipv4
advertise_addr_wan_ipv6 advertise_reconnect_timeout auto_config autopilot bind_addr bootstrap bootstrap_expect cache
check check_output_max_size check_update_interval checks client_addr cloud config_entries auto_encrypt connect
dns_config domain alt_domain recursors data_dir datacenter default_query_time disable_anonymous_signature
disable_coordinates disable_host_node_id disable_http_unprintable_char_filter disable_keyring_file disable_remote_exec
disable_update_check discard_check_output discovery_max_stale enable_agent_tls_for_checks enable_central_service_config
enable_debug enable_script_checks enable_local_script_checks enable_syslog encrypt encrypt_verify_incoming
encrypt_verify_outgoing gossip_lan gossip_wan http_config leave_on_terminate license_path limits locality log_level
log_sublevels log_json log_file log_rotate_duration log_rotate_bytes log_rotate_max_files max_query_time node_id
node_meta node_name peering performance pid_file ports primary_datacenter primary_gateways primary_gateways_interval
protocol raft_protocol raft_snapshot_threshold raft_snapshot_interval raft_trailing_logs reconnect_timeout
reconnect_timeout_wan rejoin_after_leave auto_reload_config retry_interval retry_interval_wan retry_join retry_max
retry_max_wan retry_join_wan serf_lan_allowed_cidrs serf_wan_allowed_cidrs serf_lan serf_wan server server_name
service services session_ttl_min skip_leave_on_interrupt syslog_facility tls tagged_addresses telemetry
translate_wan_addrs xds ui ui_content_path ui_dir ui_config unix_sockets watches rpc raft_logstore
use_streaming_backend snapshot_agent ae_interval check_deregister_interval_min check_reap_interval consul revision
segment_limit segment_name_limit sync_coordinate_interval_min sync_coordinate_rate_target version version_prerelease
version_metadata build_date audit read_replica segment segments partition license_poll_base_time
license_poll_max_time license_update_base_time license_update_max_time reporting
acl_agent_master_token acl_agent_token acl_token acl_enable_key_list_policy acl_master_token acl_replication_token
enable_acl_replication acl_datacenter acl_default_policy acl_down_policy acl_ttl ca_file ca_path cert_file key_file
tls_cipher_suites tls_min_version verify_incoming verify_incoming_https verify_incoming_rpc verify_outgoing
verify_server_hostname tls_prefer_server_cipher_suites start_join start_join_wan raft_boltdb
""".split())
# config.go: `ReadReplica ... alias:"non_voting_server"`
TOP_LEVEL_ALIASES = {"non_voting_server": "read_replica"}
# builder.go: these are warned about, not refused
DEPRECATED_IGNORED = frozenset(("acl_enforce_version_8",))

ACL = frozenset("""enabled enable_token_replication policy_ttl role_ttl token_ttl down_policy default_policy
enable_key_list_policy tokens enable_token_persistence msp_disable_bootstrap""".split())
TOKENS = frozenset("""initial_management replication agent_recovery default agent config_file_service_registration
managed_service_provider master agent_master""".split())
PORTS = frozenset("""dns http https serf_lan serf_wan server grpc grpc_tls proxy_min_port proxy_max_port
sidecar_min_port sidecar_max_port expose_min_port expose_max_port""".split())
ADDRESSES = frozenset("dns http https grpc grpc_tls".split())
UI_CONFIG = frozenset("""enabled dir content_path metrics_provider metrics_provider_files metrics_provider_options_json
metrics_proxy dashboard_url_templates""".split())
SERVICE = frozenset("""kind id name tags address tagged_addresses meta port socket_path check checks token weights
enable_tag_override proxy connect""".split())
CHECK = frozenset("""id name notes service_id token status args http header method body disable_redirects
output_max_size tcp udp interval docker_container_id shell grpc grpc_use_tls tls_server_name tls_skip_verify
alias_node alias_service timeout ttl h2ping h2ping_use_tls os_service success_before_passing failures_before_warning
failures_before_critical deregister_critical_service_after""".split())
CHECK_ALIASES = {"serviceid": "service_id", "scriptargs": "args", "dockercontainerid": "docker_container_id",
                 "tlsskipverify": "tls_skip_verify", "deregistercriticalserviceafter": "deregister_critical_service_after"}
WEIGHTS = frozenset(("passing", "warning"))
SERVICE_ADDRESS = frozenset(("address", "port"))


def _match(key, allowed, aliases=None):
    low = str(key).lower()
    if aliases and low in aliases:
        return aliases[low]
    return low if low in allowed else None


def _walk_check(check, path, out):
    if not isinstance(check, dict):
        return
    for key in check:
        if _match(key, CHECK, CHECK_ALIASES) is None:
            out.append("%s.%s" % (path, key))


def _walk_service(service, path, out):
    if not isinstance(service, dict):
        return
    for key, value in service.items():
        name = _match(key, SERVICE)
        if name is None:
            out.append("%s.%s" % (path, key))
        elif name == "check":
            _walk_check(value, "%s.%s" % (path, key), out)
        elif name == "checks" and isinstance(value, list):
            for i, item in enumerate(value):
                _walk_check(item, "%s.%s[%d]" % (path, key, i), out)
        elif name == "weights" and isinstance(value, dict):
            out.extend("%s.%s.%s" % (path, key, k) for k in value if _match(k, WEIGHTS) is None)
        elif name == "tagged_addresses" and isinstance(value, dict):
            for tag, addr in value.items():
                if isinstance(addr, dict):
                    out.extend("%s.%s[%s].%s" % (path, key, tag, k) for k in addr if _match(k, SERVICE_ADDRESS) is None)


def unknown_keys(data):
    """The dotted names (as Consul prints them) of the keys a config file's top-level object does not allow."""
    out = []
    for key, value in data.items():
        name = _match(key, TOP_LEVEL, TOP_LEVEL_ALIASES)
        if name is None:
            if str(key).lower() not in DEPRECATED_IGNORED:
                out.append(str(key))
            continue
        if name == "acl" and isinstance(value, dict):
            for sub, subvalue in value.items():
                subname = _match(sub, ACL)
                if subname is None:
                    out.append("%s.%s" % (key, sub))
                elif subname == "tokens" and isinstance(subvalue, dict):
                    out.extend("%s.%s.%s" % (key, sub, t) for t in subvalue if _match(t, TOKENS) is None)
        elif name in ("ports", "addresses", "ui_config") and isinstance(value, dict):
            allowed = {"ports": PORTS, "addresses": ADDRESSES, "ui_config": UI_CONFIG}[name]
            out.extend("%s.%s" % (key, sub) for sub in value if _match(sub, allowed) is None)
        elif name == "service":
            _walk_service(value, key, out)
        elif name == "services" and isinstance(value, list):
            for i, item in enumerate(value):
                _walk_service(item, "%s[%d]" % (key, i), out)
        elif name == "check":
            _walk_check(value, key, out)
        elif name == "checks" and isinstance(value, list):
            for i, item in enumerate(value):
                _walk_check(item, "%s[%d]" % (key, i), out)
    return sorted(out)


def go_multierror(messages):
    """hashicorp/go-multierror's default ListFormatFunc."""
    if len(messages) == 1:
        return "1 error occurred:\n\t* %s\n\n" % messages[0]
    return "%d errors occurred:\n%s\n\n" % (len(messages), "\n".join("\t* " + m for m in messages))

"""A stand-in for the HashiCorp Consul agent, for the kongops lab.

It speaks Consul's command line, HTTP API and log format for what the
kongops.cluster collection uses.  Consensus is pysyncobj's Raft.
"""
import os

VERSION = os.environ.get("CONSUL_STANDIN_VERSION", "1.20.1")
REVISION = "920cc7c6"
BUILD_DATE = "2024-11-20T16:49:35Z"
PROTOCOL = 2
RAFT_PROTOCOL = 3

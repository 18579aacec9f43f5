"""Log lines in Consul 1.20's (hclog) text format, written unbuffered to stdout."""
import datetime
import sys
import threading

LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4}
_lock = threading.Lock()
_state = {"level": LEVELS["info"], "stream": sys.stdout}


def set_level(name):
    _state["level"] = LEVELS.get(str(name).lower(), LEVELS["info"])


def set_stream(stream):
    _state["stream"] = stream


def format_value(value):
    """hclog quotes values that contain spaces, quotes or are empty-ish lists."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join('"%s"' % v for v in value) + "]"
        return text
    else:
        text = str(value)
    if text == "":
        return ""
    if any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    return text


def format_line(level, name, message, pairs, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    tag = ("[%s]" % level.upper()).ljust(7)
    line = "%s %s %s: %s" % (stamp, tag, name, message)
    if pairs:
        line += ": " + " ".join("%s=%s" % (k, format_value(v)) for k, v in pairs)
    return line


class Logger:
    """A named logger like hclog's (agent, agent.server.raft, ...)."""

    def __init__(self, name):
        self.name = name

    def named(self, sub):
        return Logger(self.name + "." + sub)

    def log(self, level, message, *pairs, **kwargs):
        if LEVELS[level] < _state["level"]:
            return
        items = list(pairs) + list(kwargs.items())
        line = format_line(level, self.name, message, items)
        with _lock:
            try:
                _state["stream"].write(line + "\n")
                _state["stream"].flush()
            except (OSError, ValueError):
                pass

    def trace(self, message, *pairs, **kw):
        self.log("trace", message, *pairs, **kw)

    def debug(self, message, *pairs, **kw):
        self.log("debug", message, *pairs, **kw)

    def info(self, message, *pairs, **kw):
        self.log("info", message, *pairs, **kw)

    def warn(self, message, *pairs, **kw):
        self.log("warn", message, *pairs, **kw)

    def error(self, message, *pairs, **kw):
        self.log("error", message, *pairs, **kw)


def raw(text):
    """Banner lines (==> ...) are printed as is."""
    with _lock:
        try:
            _state["stream"].write(text + "\n")
            _state["stream"].flush()
        except (OSError, ValueError):
            pass

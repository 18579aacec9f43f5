"""Small pure helpers: Go durations, Consul's key translation, column tables."""
import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)")


def parse_duration(value):
    """Go's time.ParseDuration for strings; JSON numbers are nanoseconds (Go's time.Duration)."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise ValueError("invalid duration %r" % (value,))
    if isinstance(value, (int, float)):
        return float(value) / 1e9
    text = str(value).strip()
    if text in ("0", "+0", "-0"):
        return 0.0
    sign = 1.0
    if text[:1] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    pos, total = 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match:
            raise ValueError('time: invalid duration "%s"' % value)
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos == 0:
        raise ValueError('time: invalid duration "%s"' % value)
    return sign * total


def format_duration(seconds):
    """Go's Duration.String(): 10s, 1m0s, 1m30s, 500ms, 1h0m0s, 0s."""
    if seconds == 0:
        return "0s"
    negative = seconds < 0
    seconds = abs(seconds)
    if seconds < 1:
        nanos = int(round(seconds * 1e9))
        if nanos < 1000:
            text = "%dns" % nanos
        elif nanos < 1000000:
            text = _trim("%.3f" % (nanos / 1e3)) + "\u00b5s"
        else:
            text = _trim("%.6f" % (nanos / 1e6)) + "ms"
    else:
        hours = int(seconds // 3600)
        minutes = int((seconds % 3600) // 60)
        secs = seconds - hours * 3600 - minutes * 60
        sec_text = _trim("%.9f" % secs) + "s"
        if hours:
            text = "%dh%dm%s" % (hours, minutes, sec_text)
        elif minutes:
            text = "%dm%s" % (minutes, sec_text)
        else:
            text = sec_text
    return ("-" if negative else "") + text


def _trim(number_text):
    if "." in number_text:
        number_text = number_text.rstrip("0").rstrip(".")
    return number_text


def canonical_key(key):
    """Consul decodes bodies case-insensitively and accepts snake_case: fold both."""
    return str(key).replace("_", "").replace("-", "").lower()


def translate_keys(data, known, verbatim=()):
    """Rename keys of data to the CamelCase names in known; keys in verbatim keep user maps."""
    table = {canonical_key(name): name for name in known}
    out = {}
    for key, value in data.items():
        name = table.get(canonical_key(key), key)
        out[name] = value
    return out


def columnize(rows):
    """ryanuber/columnize with its default config: two spaces between columns."""
    if not rows:
        return ""
    widths = [0] * max(len(r) for r in rows)
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(str(cell)))
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == len(row) - 1:
                cells.append(str(cell))
            else:
                cells.append(str(cell).ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def split_host_port(text, default_port):
    text = str(text).strip()
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port

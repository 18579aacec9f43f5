# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python entry of the `kong` command of the Kong stand-in.

The `kong` shell wrapper next to this file (installed as /usr/local/bin/kong in the lab image) runs it with
Debian's /usr/bin/python3. No shebang here: ansible-test only accepts `#!/usr/bin/env python` for such a
file, and Debian has no `python` command.
"""
import os
import sys

_here = os.path.dirname(os.path.realpath(__file__))
for _candidate in (_here, "/opt/kong-standin"):
    if os.path.isdir(os.path.join(_candidate, "kong_standin")):
        sys.path.insert(0, _candidate)
        # `kong start` re-runs this file (with sys.executable) as the background `docker-start` process
        _script = os.path.join(_candidate, "kong_main.py")
        break
else:
    sys.stderr.write("Error: kong_standin package not found next to %s or in /opt/kong-standin\n" % _here)
    sys.exit(1)

from kong_standin.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], _script if os.path.exists(_script) else os.path.realpath(__file__)))

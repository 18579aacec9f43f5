# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python entry of the `consul` command of the Consul stand-in.

The `consul` shell wrapper next to this file (installed as /usr/local/bin/consul in the lab image) runs it with
Debian's /usr/bin/python3. No shebang here: ansible-test only accepts `#!/usr/bin/env python` for such a
file, and Debian has no `python` command.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from consul_standin.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

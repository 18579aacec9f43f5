# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python entry of the stand-in's `nginx` (run by the `nginx` wrapper next to this file; no shebang, see
kong_main.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from kong_standin.nginx import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

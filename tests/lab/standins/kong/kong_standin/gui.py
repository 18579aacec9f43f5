# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong Manager listener (admin_gui_listen, 3.4+): only a placeholder page, but bound like Kong binds it.

Kong serves the Kong Manager single-page app from <prefix>/gui on every path (nginx_kong.lua, 3.4.0 line 408);
the stand-in answers every GET with one small HTML page.
"""

from .httpbase import BaseHandler

PAGE = b"<!DOCTYPE html><html><head><title>Kong Manager</title></head><body>Kong Manager (stand-in)</body></html>\n"


class GuiHandler(BaseHandler):
    access_log_enabled = False

    def handle_request(self):
        if self.command not in ("GET", "HEAD"):
            self.send_reply(405, b"", [("Content-Type", "text/html")])
            return
        self.send_reply(200, PAGE, [("Content-Type", "text/html; charset=UTF-8")])

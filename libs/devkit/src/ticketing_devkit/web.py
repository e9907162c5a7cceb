"""The web app (frontend/) under `make dev`: its Node dependencies installed when the lock
changed (`npm ci`), a production build (what CloudFront serves, what the browser tests see), and
`vite preview` serving it on WEB_PORT. For hot reload while editing, `npm run dev` in frontend/
serves the sources on 5174 against the same gateway."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ticketing_devkit.stack import FRONTEND_DIR, WEB_PORT


@dataclass(frozen=True)
class WebApp:
    root: Path = FRONTEND_DIR
    port: int = WEB_PORT

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def missing(self) -> str | None:
        """Why the web app cannot be built here (None: it can)."""
        if shutil.which("node") is None or shutil.which("npm") is None:
            return (
                "Node.js 20 and npm are not installed, so the web app is not served"
                " (Debian: apt-get install nodejs npm, or see frontend/README.md)"
            )
        return None

    def needs_install(self) -> bool:
        """`npm ci` is due when node_modules is missing or older than the lock file."""
        installed = self.root / "node_modules" / ".package-lock.json"
        lock = self.root / "package-lock.json"
        return not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime

    def install_command(self) -> list[str]:
        return ["npm", "--prefix", str(self.root), "ci", "--no-audit", "--no-fund"]

    def build_command(self) -> list[str]:
        return ["npm", "--prefix", str(self.root), "run", "--silent", "build"]

    def serve_command(self) -> list[str]:
        # node itself (not npm, whose shell would outlive a SIGTERM to it) so stopping it stops it.
        vite = self.root / "node_modules" / "vite" / "bin" / "vite.js"
        return ["node", str(vite), "preview", str(self.root), "--port", str(self.port)]

"""Render Picus's Nginx template the way the official image does, and run a real Nginx on it.

The image's entrypoint (docker-entrypoint.d/20-envsubst-on-templates.sh) runs
`envsubst "${A} ${B} ..."` over every template under /etc/nginx/templates (subdirectories
too), listing only the *defined* environment variables whose names match
NGINX_ENVSUBST_FILTER, and writes the results into /etc/nginx/conf.d, keeping the
subdirectories; its nginx.conf includes conf.d/*.conf inside `http {}`. `render` does the
same for default.conf, `render_templates` for every template; `Nginx` wraps the result in
an nginx.conf like the image's, with every path (pid, logs, temp files) under its own
prefix, runs it in the foreground and stops it by PID.
"""

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from devtools.compose import service_environment
from devtools.paths import REPO
from devtools.processes import Started, stop_process, wait_until_listening

TEMPLATES = REPO / "nginx" / "templates"
TEMPLATE = TEMPLATES / "default.conf.template"
TEMPLATE_SUFFIX = ".template"
# Must equal NGINX_ENVSUBST_FILTER in docker-compose.yml (test_compose_topology checks it).
ENVSUBST_FILTER = "PICUS_"

# As docker-compose.yml's `command` gives them (test_compose_topology checks they agree).
GLOBAL_DIRECTIVES = "daemon off; worker_shutdown_timeout 10s;"

_MAIN_CONF = """\
# Like the official image's /etc/nginx/nginx.conf, with every path under the test's prefix.
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr notice;

events {{
    worker_connections 256;
}}

http {{
    {mime_types}
    default_type application/octet-stream;
    access_log {prefix}/logs/default-access.log;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    sendfile on;
    keepalive_timeout 65;
    include {prefix}/conf.d/*.conf;
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable (Debian puts it in /usr/sbin, which may not be on PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_environment(listen_port: int, upstream_port: int, **overrides: str) -> dict[str, str]:
    """The nginx service's environment from docker-compose.yml, pointed at loopback ports."""
    environment = service_environment("nginx")
    environment.update(
        PICUS_LISTEN=f"127.0.0.1:{listen_port}",
        PICUS_UPSTREAM=f"127.0.0.1:{upstream_port}",
        PICUS_UPSTREAM_PARAMS="",  # `resolve` is for a DNS name, and needs nginx >= 1.27.3
        PICUS_RESOLVER="127.0.0.1",  # never asked: the upstream is an address
    )
    environment.update(overrides)
    return environment


def template_files() -> list[Path]:
    """Every template the image renders (recursively, as its entrypoint's `find` does)."""
    return sorted(TEMPLATES.rglob(f"*{TEMPLATE_SUFFIX}"))


def template_variables(template: Path | None = None) -> set[str]:
    """The ${NAME} variables the template (default: all of them) uses, and so the
    environment must define."""
    found: set[str] = set()
    for path in [template] if template else template_files():
        found |= set(re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8")))
    return found


def render(environment: Mapping[str, str], template: Path = TEMPLATE) -> str:
    """The template after the image's envsubst step, given the container's environment.

    envsubst sees only that environment, as in the container: nothing from the test's own.
    """
    defined = sorted(name for name in environment if re.search(ENVSUBST_FILTER, name))
    shell_format = " ".join(f"${{{name}}}" for name in defined)
    envsubst = shutil.which("envsubst")
    if envsubst is None:
        raise FileNotFoundError("envsubst is not installed (Debian: gettext-base)")
    result = subprocess.run(
        [envsubst, shell_format],
        input=template.read_text(encoding="utf-8"),
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return result.stdout


def render_templates(environment: Mapping[str, str]) -> dict[str, str]:
    """Every template rendered, by its path under conf.d ("default.conf", "tls-on/...")."""
    return {
        str(path.relative_to(TEMPLATES))[: -len(TEMPLATE_SUFFIX)]: render(environment, path)
        for path in template_files()
    }


def with_upstream_servers(site_conf: str, addresses: list[str]) -> str:
    """The rendered config with its one `server` in `upstream picus_app` replaced by one
    line per address: what Nginx makes of a DNS name with several addresses (the Compose
    service `app` scaled out, re-resolved by `resolve`), written out for loopback ports."""
    pattern = re.compile(r"(upstream picus_app \{.*?\n)(\s*)server [^;\n]*;\n", re.DOTALL)
    replaced, count = pattern.subn(
        lambda match: match[1] + "".join(f"{match[2]}server {a};\n" for a in addresses),
        site_conf,
        count=1,
    )
    if count != 1:
        raise ValueError("no single `server` line in `upstream picus_app`: the template changed")
    return replaced


class Nginx(Started):
    """A foreground nginx serving `site_conf` under `prefix`; a context manager."""

    def __init__(
        self,
        site_conf: str,
        prefix: Path,
        port: int,
        extra_confs: Mapping[str, str] | None = None,
    ) -> None:
        """`site_conf` becomes conf.d/default.conf; `extra_confs` maps further paths under
        conf.d (e.g. "tls-on/picus-tls.conf", from `render_templates`) to their text."""
        self.site_conf = site_conf
        self.extra_confs = dict(extra_confs or {})
        self.prefix = prefix
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.access_log = prefix / "logs" / "access.log"
        self.error_log = prefix / "logs" / "error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _write_files(self) -> Path:
        for directory in ("conf.d", "logs", "temp"):
            (self.prefix / directory).mkdir(parents=True, exist_ok=True)
        (self.prefix / "conf.d" / "default.conf").write_text(self.site_conf, encoding="utf-8")
        for relative, text in self.extra_confs.items():
            path = self.prefix / "conf.d" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        mime_types = Path("/etc/nginx/mime.types")
        main_conf = _MAIN_CONF.format(
            prefix=self.prefix,
            # Worker processes must reach the prefix, which pytest creates mode 0700.
            user="user root;\n" if os.geteuid() == 0 else "",
            mime_types=f"include {mime_types};" if mime_types.exists() else "",
        )
        conf = self.prefix / "nginx.conf"
        conf.write_text(main_conf, encoding="utf-8")
        return conf

    def command(self, *extra: str) -> list[str]:
        """nginx with this prefix and config, plus `extra` arguments."""
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed")
        conf = self.prefix / "nginx.conf"
        return [binary, "-p", f"{self.prefix}/", "-c", str(conf), "-e", "stderr", *extra]

    def check(self) -> None:
        """`nginx -t`: raise with nginx's own words if the configuration is invalid."""
        self._write_files()
        result = subprocess.run(
            self.command("-t"), capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{result.stderr}")

    def start(self, timeout: float = 10.0) -> Self:
        """Start nginx in the foreground (as the image does) and wait for its port."""
        self.check()
        # The template logs requests to /dev/stdout (the container's log): here, a file.
        with self.access_log.open("ab") as stdout, self.error_log.open("ab") as stderr:
            self.process = subprocess.Popen(
                self.command("-g", GLOBAL_DIRECTIVES),
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # its own process group: master and workers
            )
        if wait_until_listening(
            self.process,
            self.port,
            timeout,
            lambda: f"nginx exited: {self.error_log.read_text(encoding='utf-8')}",
        ):
            return self
        self.stop()
        raise TimeoutError(f"nginx did not listen on port {self.port} within {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGQUIT to the master, by PID); SIGKILL if it hangs."""
        if self.process is not None:
            # SIGKILL goes to the group this nginx leads (start_new_session): its workers too.
            stop_process(self.process, timeout, signal.SIGQUIT, kill_group=True)

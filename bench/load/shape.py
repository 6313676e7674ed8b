"""The production shape on loopback: PostgreSQL, Redis, gunicorn, the task worker, SMTP.

Every service listens on 127.0.0.1 on a free port and keeps its files in one temporary
directory, removed when the shape stops. Each process runs in its own session so that a
fault scenario can stop exactly that process (and the shape can always end it).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SITE = ROOT / "example_site"
PYTHON = sys.executable
HERE = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=30.0, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def pg_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Shape:
    def __init__(self, *, web_workers=4, keep=False, log=print):
        self.web_workers = web_workers
        self.keep = keep
        self.log = log
        self.tmp = Path(tempfile.mkdtemp(prefix="wt-load-"))
        self.tmp.chmod(0o711)
        self.ports = {name: free_port() for name in ("pg", "redis", "smtp", "web")}
        self.procs = {}
        self.pg_bin = pg_bin()
        self.as_postgres = os.geteuid() == 0
        self.pg_data = self.tmp / "pg" / "data"
        self.mail_dir = self.tmp / "mail"
        self.mail_dir.mkdir()
        self.media = self.tmp / "media"
        self.static = self.tmp / "static"
        self.worker_count = 0
        self.secret_key = secrets.token_urlsafe(50)
        self.reply_digest_seconds = 5

    # --- environment ---------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.ports['web']}"

    def env(self):
        env = dict(os.environ)
        for name in list(env):
            if name.startswith(("PG", "DJANGO_", "EXAMPLE_", "WT_")):
                del env[name]
        env.update(
            DJANGO_SETTINGS_MODULE="example_site.settings_production",
            PYTHONPATH=f"{SITE}{os.pathsep}{ROOT}",
            DJANGO_SECRET_KEY=self.secret_key,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            PGHOST="127.0.0.1",
            PGPORT=str(self.ports["pg"]),
            PGUSER="postgres",
            PGDATABASE="wagtail_tickets",
            REDIS_URL=f"redis://127.0.0.1:{self.ports['redis']}/0",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.ports["smtp"]),
            EMAIL_TIMEOUT="10",
            DJANGO_STATIC_ROOT=str(self.static),
            DJANGO_MEDIA_ROOT=str(self.media),
            WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS=str(self.reply_digest_seconds),
            PYTHONUNBUFFERED="1",
        )
        return env

    def _start(self, name, args, *, log_name=None, env=None, cwd=None):
        log_file = open(self.tmp / f"{log_name or name}.log", "ab")
        proc = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env or self.env(),
            cwd=cwd or ROOT,
            start_new_session=True,
        )
        log_file.close()
        self.procs[name] = proc
        return proc

    def _stop(self, name, sig=signal.SIGTERM, timeout=10.0):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)

    def manage(self, *args, check=True, capture=False, timeout=600):
        result = subprocess.run(
            [PYTHON, str(SITE / "manage.py"), *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    # --- PostgreSQL --------------------------------------------------------------------

    def _pg(self, tool, *args, check=True):
        cmd = [str(self.pg_bin / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd, cwd=self.tmp / "pg", capture_output=True, text=True, check=check, timeout=120
        )

    def start_postgres(self):
        pg_dir = self.tmp / "pg"
        if not pg_dir.exists():
            pg_dir.mkdir(mode=0o700)
            if self.as_postgres:
                shutil.chown(pg_dir, "postgres", "postgres")
            self._pg(
                "initdb",
                "-D",
                str(self.pg_data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.pg_data),
            "-l",
            str(pg_dir / "server.log"),
            "-w",
            "start",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.ports['pg']} -k {pg_dir} "
            "-c max_connections=60 -c shared_buffers=64MB",
        )

    def stop_postgres(self, mode="fast"):
        if (self.pg_data / "postmaster.pid").exists():
            self._pg("pg_ctl", "-D", str(self.pg_data), "-m", mode, "-w", "stop", check=False)

    def pg_client(self, program):
        """A PostgreSQL client program with the shape's server and user."""
        port = str(self.ports["pg"])
        return [str(self.pg_bin / program), "-h", "127.0.0.1", "-p", port, "-U", "postgres"]

    def psql(self, sql):
        result = subprocess.run(
            [
                *self.pg_client("psql"),
                "-d",
                "wagtail_tickets",
                "-XAtqc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout

    # --- the other services --------------------------------------------------------------

    def start_redis(self):
        proc = self._start(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.ports["redis"]),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
                "--maxmemory",
                "128mb",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
        )
        wait_for_port(self.ports["redis"], process=proc)

    def start_smtp(self):
        proc = self._start(
            "smtp",
            [
                PYTHON,
                str(HERE / "smtp_sink.py"),
                "--port",
                str(self.ports["smtp"]),
                "--dir",
                str(self.mail_dir),
            ],
        )
        wait_for_port(self.ports["smtp"], process=proc)

    def stop_smtp(self):
        self._stop("smtp")

    def start_web(self):
        proc = self._start(
            "web",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "--chdir",
                str(SITE),
                "example_site.wsgi",
                "--workers",
                str(self.web_workers),
                "--bind",
                f"127.0.0.1:{self.ports['web']}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--backlog",
                "512",
                "--access-logfile",
                str(self.tmp / "access.log"),
                "--access-logformat",
                '%(p)s %(s)s %(m)s "%(U)s" %({x-forwarded-for}i)s %(M)s',
            ],
        )
        wait_for_port(self.ports["web"], timeout=60, process=proc)

    def web_worker_pids(self):
        proc = self.procs.get("web")
        if proc is None:
            return []
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def start_worker(self):
        self.worker_count += 1
        proc = self._start(
            "worker",
            # One supervisor slot: the same id each start, so a worker started after a
            # kill takes back the tasks its predecessor left running (helpdesk_worker).
            [
                PYTHON,
                str(SITE / "manage.py"),
                "helpdesk_worker",
                "--interval",
                "0.2",
                "--no-reload",
                "--no-startup-delay",
                "--worker-id",
                "load-1",
            ],
            log_name="worker",
        )
        time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError(f"the task worker exited at once:\n{self.tail('worker')}")
        return proc

    def kill_worker(self):
        self._stop("worker", sig=signal.SIGKILL)

    def stop_worker(self):
        self._stop("worker", sig=signal.SIGTERM, timeout=60)

    def tail(self, name, lines=40):
        path = self.tmp / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- whole shape ---------------------------------------------------------------------

    def start(self):
        self.log(f"shape: temporary directory {self.tmp}")
        self.start_postgres()
        subprocess.run(
            [*self.pg_client("createdb"), "wagtail_tickets"],
            check=True,
            timeout=60,
        )
        self.start_redis()
        self.start_smtp()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("load_demo", "--hostname", "127.0.0.1", "--port", str(self.ports["web"]))
        deploy = self.manage("check", "--deploy", "--fail-level", "WARNING", check=False)
        self.deploy_check = (deploy.returncode, (deploy.stdout + deploy.stderr).strip())
        self.start_web()
        self.start_worker()
        self.log(
            "shape: PostgreSQL :{pg}, Redis :{redis}, SMTP :{smtp}, gunicorn :{web} "
            "({n} workers), helpdesk_worker".format(n=self.web_workers, **self.ports)
        )

    def stop(self):
        for name in ("web", "worker", "smtp", "redis"):
            try:
                self._stop(name)
            except Exception as error:  # keep tearing down the rest
                self.log(f"shape: stopping {name}: {error}")
        for name in list(self.procs):
            self._stop(name, sig=signal.SIGKILL)
        try:
            self.stop_postgres(mode="immediate")
        except Exception as error:
            self.log(f"shape: stopping PostgreSQL: {error}")
        if self.keep:
            self.log(f"shape: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def mails(self):
        """What the SMTP server received, one dict per message."""
        path = self.mail_dir / "received.jsonl"
        if not path.exists():
            return []
        with open(path) as lines:
            return [json.loads(line) for line in lines if line.strip()]

"""A private Dovecot (IMAP and POP3) on loopback, from a temporary folder.

Used by the mail tests (a session fixture) and the benchmark. Nothing outside the
temporary folder is read or changed: the configuration, users, Maildirs, certificate,
logs and sockets all live there, and the ports are free ones picked at start.
"""

import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USERS = {"helpdesk": "imap-Pa55-word", "other": "other-Pa55-word"}

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""


def binary():
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    host = "127.0.0.1"

    def __init__(self):
        # Directly under /tmp whatever TMPDIR says: Dovecot's sockets live in the folder,
        # and a unix socket's path may not be longer than 107 bytes.
        short = "/tmp" if os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="wt-dovecot-", dir=short))
        self.ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
        self.users = dict(USERS)
        self.config = self.root / "dovecot.conf"
        self.cert = self.root / "cert.pem"

    def _accounts(self):
        if os.geteuid() == 0:
            user = pwd.getpwnam("dovecot")
            login = "dovenull"
        else:
            # Without root Dovecot cannot switch users: everything runs as us.
            user = pwd.getpwuid(os.geteuid())
            login = user.pw_name
        return user, login

    def start(self):
        user, login = self._accounts()
        os.chmod(self.root, 0o755)
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir()
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(self.root / "key.pem"), "-out", str(self.cert),
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (self.root / "users").write_text(
            "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in self.users.items())
        )
        self.config.write_text(
            CONFIG.format(
                root=self.root,
                internal_user=user.pw_name,
                login_user=login,
                uid=user.pw_uid,
                gid=user.pw_gid,
                **self.ports,
            )
        )
        os.chown(self.root / "mail", user.pw_uid, user.pw_gid)
        # Output to a file, not a pipe: the daemon keeps its descriptors, and a pipe
        # would never reach end of file.
        with open(self.root / "start.log", "wb") as output:
            result = subprocess.run(
                [binary(), "-c", str(self.config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        if result.returncode != 0:
            started = (self.root / "start.log").read_text(errors="replace")
            raise RuntimeError(f"dovecot did not start: {started}{self.log()}")
        deadline = time.monotonic() + 20
        for port in self.ports.values():
            while True:
                try:
                    socket.create_connection((self.host, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"dovecot is not listening: {self.log()}") from None
                    time.sleep(0.1)
        return self

    def log(self):
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self):
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            subprocess.run(
                ["doveadm", "-c", str(self.config), "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            deadline = time.monotonic() + 10
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- the test's side of the server ----------------------------------------------

    def imap(self, user="helpdesk"):
        connection = imaplib.IMAP4(self.host, self.ports["imap"], timeout=30)
        connection.login(user, self.users[user])
        return connection

    def append(self, messages, user="helpdesk", folder="INBOX"):
        connection = self.imap(user)
        try:
            if folder != "INBOX":
                connection.create(folder)
            for raw in messages:
                status, data = connection.append(folder, None, None, raw)
                assert status == "OK", data
        finally:
            connection.logout()

    def folder(self, name="INBOX", user="helpdesk"):
        """(message count, unseen count) of a folder."""
        connection = self.imap(user)
        try:
            status, data = connection.status(f'"{name}"', "(MESSAGES UNSEEN)")
            if status != "OK":
                return 0, 0
            words = data[0].decode().replace("(", " ").replace(")", " ").split()
            values = dict(zip(words[-4::2], words[-3::2], strict=True))
            return int(values["MESSAGES"]), int(values["UNSEEN"])
        finally:
            connection.logout()

    def empty(self, user="helpdesk"):
        connection = self.imap(user)
        try:
            status, folders = connection.list()
            for line in folders or []:
                match = re.match(r'^\([^)]*\) (?:"[^"]*"|NIL) (.+)$', line.decode())
                name = match.group(1).strip('"') if match else "INBOX"
                if name.upper() != "INBOX":
                    connection.delete(f'"{name}"')
                    continue
                status, data = connection.select('"INBOX"')
                if status == "OK" and int(data[0]) > 0:
                    connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    connection.expunge()
                connection.close()
        finally:
            connection.logout()

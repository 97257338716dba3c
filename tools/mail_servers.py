# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Mail servers for the end-to-end mail test, run privately on loopback (127.0.0.1 only).

- ``Dovecot``: an IMAP mailbox served by the system's dovecot binary (Debian package
  ``dovecot-imapd``, installed by tools/lib.sh) with its own configuration, passwd-file user and
  maildir in a temporary folder, on a free port. Nothing of the system's dovecot configuration
  is read or changed, no service is started; the instance stops with ``stop()`` or, should the
  test process die, with it (parent-death signal), and its folder is removed by the next start.
- ``SmtpSink``: an SMTP server on a thread that accepts every message and keeps its envelope
  (MAIL FROM, RCPT TO) and content.

Standard library only; used by tests/test_mail_end_to_end.py.
"""

import contextlib
import ctypes
import email.message
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

HOST = '127.0.0.1'
FOLDER_PREFIX = 'cabinet-helpdesk-imap-'
DOVECOT_CANDIDATES = ('/usr/sbin/dovecot', '/usr/local/sbin/dovecot')
PR_SET_PDEATHSIG = 1


def find_dovecot():
    """Path of the dovecot binary, or None when it is not installed."""
    for path in (shutil.which('dovecot'), *DOVECOT_CANDIDATES):
        if path and os.access(path, os.X_OK):
            return path
    return None


def free_port():
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent():
    """Run in the child before exec: receive SIGTERM when the process that started it ends."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the stop() of the test suffices
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path):
    try:
        with open(path, encoding='ascii') as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Dovecot:
    """A private dovecot IMAP server with one mailbox user, listening on 127.0.0.1 only."""

    def __init__(self, user='mailbox', password=None):
        self.binary = find_dovecot()
        self.user = user
        self.password = password or secrets.token_hex(12)
        self.port = None
        self.folder = None
        self.process = None

    # ------------------------------------------------------------
    # Start and stop
    # ------------------------------------------------------------

    def start(self, timeout=10.0):
        if not self.binary:
            raise FileNotFoundError("dovecot is not installed (Debian package dovecot-imapd)")
        if self.process:
            return self
        self.remove_stale_instances()
        self.folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
        # dovecot's own unprivileged processes (auth, login) must reach the folder
        os.chmod(self.folder, 0o755)
        with open(os.path.join(self.folder, 'owner.pid'), 'w', encoding='ascii') as file:
            file.write(f'{os.getpid()}\n')
        mail_uid, mail_gid = self._mail_ids()
        mail_folder = os.path.join(self.folder, 'mail')
        os.mkdir(mail_folder, 0o700)
        os.chown(mail_folder, mail_uid, mail_gid)
        passwd = os.path.join(self.folder, 'passwd')
        with open(passwd, 'w', encoding='utf-8') as file:
            file.write(f'{self.user}:{{PLAIN}}{self.password}::::::\n')
        os.chmod(passwd, 0o644)
        error = None
        for _attempt in range(3):  # a free port can be taken between choosing and binding it
            self.port = free_port()
            config = self._write_config(mail_uid, mail_gid)
            with open(os.path.join(self.folder, 'stderr.log'), 'ab') as stderr:
                self.process = subprocess.Popen(
                    [self.binary, '-F', '-c', config],
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                    preexec_fn=_die_with_parent,
                )
            error = self._wait_ready(timeout)
            if error is None:
                return self
            self._terminate()
        self.stop()
        raise RuntimeError(f"dovecot did not start on {HOST}: {error}")

    def stop(self, timeout=5.0):
        self._terminate(timeout)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @staticmethod
    def remove_stale_instances():
        """Stop and remove the instances left by test processes that died (this user's only)."""
        base = tempfile.gettempdir()
        for name in os.listdir(base):
            folder = os.path.join(base, name)
            try:
                if not name.startswith(FOLDER_PREFIX) or os.lstat(folder).st_uid != os.getuid():
                    continue
            except OSError:
                continue
            owner = _read_pid(os.path.join(folder, 'owner.pid'))
            if owner and _alive(owner):
                continue
            master = _read_pid(os.path.join(folder, 'run', 'master.pid'))
            config = os.path.join(folder, 'dovecot.conf')
            try:
                with open(f'/proc/{master}/cmdline', 'rb') as file:
                    ours = config.encode() in file.read()
            except (OSError, TypeError):
                ours = False
            if master and ours:
                os.kill(master, signal.SIGTERM)
                for _ in range(50):
                    if not _alive(master):
                        break
                    time.sleep(0.1)
            shutil.rmtree(folder, ignore_errors=True)

    def _mail_ids(self):
        """uid and gid owning the maildir: dovecot never gives root mail access."""
        if os.geteuid() == 0:
            nobody = pwd.getpwnam('nobody')
            return nobody.pw_uid, nobody.pw_gid
        return os.getuid(), os.getgid()

    def _write_config(self, mail_uid, mail_gid):
        folder = self.folder
        chroot = ''
        if os.geteuid() == 0:
            users = ''  # the package's own unprivileged users (dovecot, dovenull)
        else:
            # rootless: every process runs as this user, without the chroots only root can make
            chroot = '  chroot =\n'
            me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
            users = f'default_internal_user = {me}\ndefault_internal_group = {group}\ndefault_login_user = {me}\n'
        config = os.path.join(folder, 'dovecot.conf')
        with open(config, 'w', encoding='utf-8') as file:
            file.write(f"""# Private instance for the tests: loopback only, nothing shared with the system.
instance_name = {os.path.basename(folder)}
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
{users}protocols = imap
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={folder}/mail/%u
}}
service anvil {{
{chroot}}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        return config

    def _wait_ready(self, timeout):
        """None once the server answers IMAP on its port, else why not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with status {self.process.returncode}: {self._log_tail()}"
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b'* OK'):
                        return None
            except OSError:
                time.sleep(0.05)
        return f"no answer within {timeout} s: {self._log_tail()}"

    def _terminate(self, timeout=5.0):
        process, self.process = self.process, None
        if not process:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)

    def _log_tail(self):
        text = ''
        for name in ('stderr.log', 'dovecot.log'):
            with (
                contextlib.suppress(OSError),
                open(os.path.join(self.folder, name), encoding='utf-8', errors='replace') as file,
            ):
                text += file.read()
        return text.strip()[-2000:] or "(no log)"

    # ------------------------------------------------------------
    # Mailbox access (what a mail client does)
    # ------------------------------------------------------------

    def connect(self):
        imap = imaplib.IMAP4(HOST, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw_message, mailbox='INBOX'):
        """Deliver ``raw_message`` (str or bytes) into the mailbox, unread."""
        if isinstance(raw_message, str):
            raw_message = raw_message.encode()
        imap = self.connect()
        try:
            status, data = imap.append(mailbox, None, None, raw_message)
            if status != 'OK':
                raise RuntimeError(f"IMAP APPEND failed: {data}")
        finally:
            imap.logout()

    def messages(self, mailbox='INBOX'):
        """Every message of the mailbox as (flags, raw bytes), without marking any read."""
        imap = self.connect()
        try:
            imap.select(mailbox, readonly=True)
            _status, data = imap.search(None, 'ALL')
            result = []
            for num in data[0].split():
                _status, parts = imap.fetch(num, '(FLAGS BODY.PEEK[])')
                flags = imaplib.ParseFlags(parts[0][0]) if parts and isinstance(parts[0], tuple) else ()
                result.append((tuple(flag.decode() for flag in flags), parts[0][1]))
            imap.close()
            return result
        finally:
            imap.logout()


@dataclass
class ReceivedMail:
    """One message as an SMTP server receives it."""

    mail_from: str
    rcpt_tos: list
    data: bytes
    message: email.message.Message = field(init=False, repr=False)

    def __post_init__(self):
        self.message = email.message_from_bytes(self.data)


class SmtpSink:
    """SMTP server on 127.0.0.1 that accepts every message and keeps it in ``messages``."""

    MAX_COMMANDS = 1000  # per connection
    MAX_DATA_LINES = 200000

    def __init__(self):
        self.messages = []
        self.port = None
        self._server = None
        self._thread = None
        self._lock = threading.Lock()

    def start(self):
        if self._server:
            return self
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def reply(self, text):
                self.wfile.write(text.encode() + b'\r\n')

            def handle(self):
                self.reply(f'220 {HOST} ESMTP test sink')
                mail_from, rcpt_tos = None, []
                for _ in range(sink.MAX_COMMANDS):
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    command = line.decode('utf-8', 'replace').strip()
                    verb = command[:4].upper()
                    if verb == 'EHLO':
                        self.reply(f'250-{HOST}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800')
                    elif verb == 'HELO':
                        self.reply(f'250 {HOST}')
                    elif verb == 'MAIL':
                        mail_from, rcpt_tos = _address(command), []
                        self.reply('250 OK')
                    elif verb == 'RCPT':
                        rcpt_tos.append(_address(command))
                        self.reply('250 OK')
                    elif verb == 'DATA':
                        self.reply('354 End data with <CR><LF>.<CR><LF>')
                        data = self._read_data()
                        with sink._lock:
                            sink.messages.append(ReceivedMail(mail_from, rcpt_tos, data))
                        mail_from, rcpt_tos = None, []
                        self.reply('250 OK: kept')
                    elif verb == 'RSET':
                        mail_from, rcpt_tos = None, []
                        self.reply('250 OK')
                    elif verb == 'NOOP':
                        self.reply('250 OK')
                    elif verb == 'QUIT':
                        self.reply('221 Bye')
                        return
                    else:
                        self.reply('502 Command not implemented')

            def _read_data(self):
                lines = []
                for _ in range(sink.MAX_DATA_LINES):
                    line = self.rfile.readline(1 << 20)
                    if not line or line in (b'.\r\n', b'.\n'):
                        break
                    lines.append(line[1:] if line.startswith(b'.') else line)
                return b''.join(lines)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((HOST, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, name='smtp-sink', daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def take(self):
        """The messages received so far, forgetting them."""
        with self._lock:
            messages, self.messages = self.messages, []
        return messages

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _address(command):
    """The address of ``MAIL FROM:<a@b> SIZE=...`` or ``RCPT TO:<a@b>``."""
    argument = command.split(':', 1)[1].strip() if ':' in command else ''
    if argument.startswith('<'):
        return argument[1 : argument.find('>')]
    return argument.split(' ', 1)[0]

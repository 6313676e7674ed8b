"""An SMTP server on loopback that records every message it accepts.

    python bench/load/smtp_sink.py --port 2525 --dir /tmp/mail

One JSON line per accepted message goes to DIR/received.jsonl (envelope, Message-ID,
subject, a digest of the body), written and flushed before the server answers 250, so a
message the client saw accepted is always on record.
"""

import argparse
import asyncio
import hashlib
import json
import os
import signal
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, directory):
        self.out = open(os.path.join(directory, "received.jsonl"), "a", buffering=1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        record = {
            "from": envelope.mail_from,
            "to": sorted(envelope.rcpt_tos),
            "message_id": str(message.get("Message-ID", "")),
            "subject": str(message.get("Subject", "")),
            "auto_submitted": str(message.get("Auto-Submitted", "")),
            "body": text[:4000],
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        os.fsync(self.out.fileno())
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    options = parser.parse_args()
    controller = Controller(
        Recorder(options.dir), hostname="127.0.0.1", port=options.port, data_size_limit=50_000_000
    )
    controller.start()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()

"""A real SMTP server for the tests: `python smtp_sink.py PORT MAILDIR DELAY`.

aiosmtpd storing every mail in a Maildir, waiting DELAY seconds before accepting each one (a
slow server, so a test can kill a worker while mails are in flight). Runs until terminated.
"""

from __future__ import annotations

import asyncio
import mailbox
import signal
import sys
from typing import Any

from aiosmtpd.controller import Controller


class SlowMailbox:
    def __init__(self, path: str, delay: float) -> None:
        self.box = mailbox.Maildir(path, create=True)
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.box.add(envelope.original_content or envelope.content)
        return "250 OK"


def main() -> None:
    port, path, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    controller = Controller(SlowMailbox(path, delay), hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()

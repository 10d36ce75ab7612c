"""A small webhook receiver that verifies Standard Webhooks signatures and shows what arrives.

    python -m zhitong.receiver --port 8090                 # secrets from config/demo.yaml
    python -m zhitong.receiver --port 8090 --secret whsec_... --record deliveries.jsonl

Every verified delivery is printed as one line (and appended to ``--record`` as JSON);
a bad signature or a stale timestamp gets ``401`` with the reason.  Repeats of one
``webhook-id`` are answered ``200`` and counted, not recorded twice — what every receiver
should do, since a sender retries until it hears a 2xx.  Tests use ``Receiver`` in-process
and can script failures (``fail_next(500, 500, 500)``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.config import load_config
from shared.webhooks import DEFAULT_TOLERANCE_S, HEADER_ID, WebhookVerificationError, verify


class Receiver:
    """Webhook endpoint that records verified deliveries in memory (and a file)."""

    def __init__(
        self,
        secrets: Sequence[str],
        record_path: Path | None = None,
        *,
        echo: bool = False,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> None:
        self.secrets = list(secrets)
        self.record_path = record_path
        self.echo = echo
        self.tolerance = tolerance
        self.deliveries: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.duplicates = 0
        self.requests = 0
        self._scripted: deque[int] = deque()
        self._seen: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/deliveries", self._list, methods=["GET"]),
                Route("/healthz", self._health, methods=["GET"]),
                Route("/{path:path}", self._receive, methods=["POST"]),
            ]
        )

    def fail_next(self, *statuses: int) -> None:
        """Answer the next verified requests with ``statuses`` before accepting again."""
        self._scripted.extend(statuses)

    def texts(self, recipient: str | None = None) -> list[str]:
        """Return the message texts received, optionally for one recipient id."""
        return [
            d["data"]["text"]
            for d in self.deliveries
            if recipient is None or d["data"].get("recipient", {}).get("id") == recipient
        ]

    async def _receive(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        try:
            verify(self.secrets, request.headers, body, tolerance=self.tolerance)
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return JSONResponse({"error": str(exc)}, status_code=401)
        if self._scripted:
            return JSONResponse({"error": "scripted failure"}, status_code=self._scripted.popleft())
        msg_id = request.headers[HEADER_ID]
        if msg_id in self._seen:
            self.duplicates += 1
            return JSONResponse({"status": "duplicate"})
        self._seen.add(msg_id)
        payload = json.loads(body)
        record = {
            "webhook_id": msg_id,
            "path": request.url.path,
            "received_at": datetime.now(UTC).isoformat(),
            **payload,
        }
        self.deliveries.append(record)
        if self.record_path is not None:
            with self.record_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self.echo:
            print(one_line(record), flush=True)
        return JSONResponse({"status": "received"})

    async def _list(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "deliveries": self.deliveries,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
            }
        )

    async def _health(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def one_line(record: dict[str, Any]) -> str:
    """Return a delivery as one human line: type, recipient, locale and text."""
    data = record.get("data", {})
    recipient = data.get("recipient", {}).get("id", "?")
    text = " ".join(str(data.get("text", "")).split())
    return f"✔ {record.get('type')} → {recipient} [{data.get('locale')}] {text}"


@contextlib.asynccontextmanager
async def serving(
    receiver: Receiver, host: str = "127.0.0.1", port: int = 8090
) -> AsyncIterator[str]:
    """Run ``receiver`` with uvicorn in this event loop; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(receiver.app, host=host, port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surface the bind error
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


def _default_secrets(config_path: Path) -> list[str]:
    from_env = os.environ.get("ZHITONG_RECEIVER_SECRETS", "").split()
    if from_env:
        return from_env
    config = load_config(config_path)
    return [s for hook in config.channels.webhooks.values() for s in hook.secrets]


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m zhitong.receiver", description="Verify and show signed webhooks."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        help="whsec_… secret (repeat for rotation); default: the webhooks in --config",
    )
    parser.add_argument(
        "--config", type=Path, default=Path(os.environ.get("ZHITONG_CONFIG", "config/demo.yaml"))
    )
    parser.add_argument("--record", type=Path, help="append each delivery as a JSON line")
    parser.add_argument("--tolerance", type=int, default=DEFAULT_TOLERANCE_S)
    args = parser.parse_args(argv)
    secrets = args.secret or _default_secrets(args.config)
    if not secrets:
        parser.error("no secret: pass --secret whsec_… or a --config with webhooks")
    receiver = Receiver(secrets, args.record, echo=True, tolerance=args.tolerance)
    print(
        f"receiver listening on http://{args.host}:{args.port}/hooks ({len(secrets)} secret(s))",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(receiver.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

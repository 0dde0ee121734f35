"""Delivery channel adapters: `log` (the default) and `webhook` (signed HTTP POST)."""

from __future__ import annotations

import binascii
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from prometheus_client import Counter
from standardwebhooks import Webhook

from domain.delivery import DeliveryResult, Message

log = logging.getLogger("journeys.delivery")
MESSAGES = Counter("journeys_messages", "Messages handed to a channel, by channel and outcome",
                   ["channel", "outcome"])


def counted(channel: str, result: DeliveryResult) -> DeliveryResult:
    MESSAGES.labels(channel, result.outcome).inc()
    return result


class LogChannel:
    """Records the message in the process log; the enrollment's step history shows it too."""

    name = "log"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def send(self, message: Message) -> DeliveryResult:
        log.info("message %s: %s to %s (template %s, attempt %s)", message.message_id,
                 message.channel, message.customer_id, message.template_id, message.attempt)
        with self._lock:
            if len(self.sent) < 10_000:
                self.sent.append(message.message_id)
        return counted(self.name, DeliveryResult("delivered"))


class WebhookChannel:
    """POSTs the message as JSON, signed as the Standard Webhooks specification says
    (`webhook-id`: the message id, the same on every retry; `webhook-timestamp`;
    `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
    with the `whsec_` secret), so receivers can verify it with that specification's
    libraries and refuse replays. The message id is the `Idempotency-Key` too.

    2xx is delivered; 408, 429, 5xx, timeouts and connection errors are transient (a
    `Retry-After` is honoured); any other 4xx is permanent.
    """

    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """`clock`: the wall clock the signatures are timestamped with."""
        if not secret.startswith("whsec_"):
            raise ValueError("the webhook secret must be a Standard Webhooks secret: "
                             "whsec_ and base64")
        try:
            self.signer = Webhook(secret)
        except (ValueError, binascii.Error) as error:
            raise ValueError(f"the webhook secret is not whsec_ and base64: {error}") from None
        self.url = url
        self.clock = clock
        self.client = httpx.Client(timeout=timeout)

    def send(self, message: Message) -> DeliveryResult:
        return counted(self.name, self._post(message))

    def _post(self, message: Message) -> DeliveryResult:
        body = json.dumps(message.document(), separators=(",", ":"), sort_keys=True).encode()
        now = self.clock()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.message_id,
            "webhook-id": message.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signer.sign(message.message_id, now, body),
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            return DeliveryResult("transient", f"timeout: {error}")
        except httpx.TransportError as error:
            return DeliveryResult("transient", f"connection failed: {error}")
        if response.is_success:
            return DeliveryResult("delivered", str(response.status_code))
        detail = f"HTTP {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in TRANSIENT:
            return DeliveryResult("permanent", detail)
        return DeliveryResult("transient", detail,
                              retry_after(response.headers.get("Retry-After"), now))


TRANSIENT = frozenset({408, 429})
LONGEST_RETRY_AFTER = timedelta(hours=1)


def retry_after(header: str | None, now: datetime) -> timedelta | None:
    """A `Retry-After` of seconds or an HTTP date, as a delay from `now`, at most an hour;
    None if absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        delay = timedelta(seconds=int(header))
    else:
        try:
            delay = parsedate_to_datetime(header) - now
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(delay, LONGEST_RETRY_AFTER))

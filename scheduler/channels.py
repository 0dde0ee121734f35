"""Delivery channel adapters: `log` (the default) and `webhook` (signed HTTP POST)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading

import httpx

from domain.delivery import DeliveryResult, Message

log = logging.getLogger("journeys.delivery")


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
        return DeliveryResult("delivered")


class WebhookChannel:
    """POSTs the message as JSON, signed with HMAC-SHA256; the message id is the Idempotency-Key.

    2xx is delivered, 4xx is permanent, 5xx, timeouts and connection errors are transient.
    """

    name = "webhook"
    SIGNATURE_HEADER = "X-Journeys-Signature"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret.encode()
        self.client = httpx.Client(timeout=timeout)

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def send(self, message: Message) -> DeliveryResult:
        body = json.dumps(message.document(), separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.message_id,
            self.SIGNATURE_HEADER: self.signature(body),
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
        if 400 <= response.status_code < 500:
            return DeliveryResult("permanent", detail)
        return DeliveryResult("transient", detail)

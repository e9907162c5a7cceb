"""Handing a message to the mail system: SMTP (dev: the local mail catcher) or Amazon SES v2.

Failures are sorted into transient (the bus retries with back-off) and permanent (retrying the
same message cannot succeed; it goes to the dead letters)."""

from __future__ import annotations

import abc
import contextlib
import logging
from email.message import EmailMessage
from typing import Any

import aioboto3
import aiosmtplib
from botocore.exceptions import BotoCoreError, ClientError
from ticketing_common.resources import Resource

from ticketing_notification.mime import sender_address

log = logging.getLogger(__name__)

# SES errors that the same request will always get again.
SES_PERMANENT = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    }
)


class PermanentSendError(Exception):
    pass


class TransientSendError(Exception):
    pass


class MailTransport(Resource, abc.ABC):
    """Mail outages are not readiness failures: sending is retried from the bus, and the
    service still answers its API meanwhile. So `check()` stays a no-op."""

    name = "mail"

    @abc.abstractmethod
    async def send(self, message: EmailMessage) -> str:
        """Deliver `message` to its recipients; returns the provider's message id."""


class SmtpTransport(MailTransport):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout_s = timeout_s

    async def send(self, message: EmailMessage) -> str:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout_s,
                sender=sender_address(str(message["From"])),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if all(code >= 500 for code in codes):
                raise PermanentSendError(f"recipients refused: {exc.recipients}") from exc
            raise TransientSendError(f"recipients deferred: {exc.recipients}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentSendError(f"SMTP {exc.code}: {exc.message}") from exc
            raise TransientSendError(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # refused, timed out, disconnected
            raise TransientSendError(f"SMTP server unavailable: {exc!r}") from exc
        return str(message["Message-ID"])


class SesTransport(MailTransport):
    def __init__(
        self,
        region: str,
        *,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.configuration_set = configuration_set
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        session = aioboto3.Session()
        self._client = await self._stack.enter_async_context(
            session.client("sesv2", region_name=self.region, endpoint_url=self.endpoint_url)
        )

    async def stop(self) -> None:
        await self._stack.aclose()

    async def send(self, message: EmailMessage) -> str:
        if self._client is None:
            raise RuntimeError("SES client is not started")
        request: dict[str, Any] = {
            "FromEmailAddress": sender_address(str(message["From"])),
            # Bare addresses: SES wants display names, if any, MIME-encoded; the To header has them.
            "Destination": {"ToAddresses": [sender_address(str(message["To"]))]},
            # Raw: the same MIME message SMTP sends, inline QR images included.
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = await self._client.send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in SES_PERMANENT:
                raise PermanentSendError(f"SES {code}: {exc}") from exc
            raise TransientSendError(f"SES {code}: {exc}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts
            raise TransientSendError(f"SES unavailable: {exc!r}") from exc
        return str(response["MessageId"])

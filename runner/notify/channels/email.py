"""E-mail over SMTP; the server and its credentials come from CAMPAIGN_GUARD_SMTP_URL, never from YAML."""

from __future__ import annotations

import email.policy
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, quote, unquote, urlsplit

from runner.notify.message import DeliveryError, Rendered

from ._text import html_to_text

URL_VARIABLE = "CAMPAIGN_GUARD_SMTP_URL"
CAFILE_VARIABLE = "CAMPAIGN_GUARD_SMTP_CAFILE"
_EXAMPLE = "smtp://user:password@mail.example.com:587?starttls=true&from=campaign-guard@example.com"
_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_ATEXT = "!#$&'*+-/=?^_`{|}~"  # RFC 5322 atext besides letters and digits; '%' is left for escapes


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    implicit_tls: bool  # smtps://
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    cafile: str | None

    @property
    def where(self) -> str:
        """The server as error messages name it: never the credentials."""
        return f"SMTP server {self.host}:{self.port}"


def settings(environ: Mapping[str, str]) -> Settings:
    url = environ.get(URL_VARIABLE)
    if not url:
        raise _config(f"{URL_VARIABLE} is not set; export it, e.g. {_EXAMPLE}")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise _config(f"{URL_VARIABLE} must start with smtp:// or smtps://, e.g. {_EXAMPLE}")
    try:
        port = parts.port
    except ValueError:
        raise _config(f"{URL_VARIABLE} has an invalid port") from None
    if not parts.hostname:
        raise _config(f"{URL_VARIABLE} names no host, e.g. {_EXAMPLE}")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls", "from"})
    if unknown:
        raise _config(f"{URL_VARIABLE}: unknown option {', '.join(unknown)}; use starttls and from")
    starttls = _FLAGS.get(query.get("starttls", ["false"])[-1].lower())
    if starttls is None:
        raise _config(f"{URL_VARIABLE}: starttls must be true or false")
    implicit_tls = parts.scheme == "smtps"
    if implicit_tls and starttls:
        raise _config(f"{URL_VARIABLE}: smtps:// is already encrypted; drop starttls=true")
    sender = query.get("from", [f"campaign-guard@{socket.gethostname()}"])[-1]
    if "@" not in parseaddr(sender)[1] or _has_line_break(sender):
        raise _config(f"{URL_VARIABLE}: from={sender!r} is not an e-mail address")
    return Settings(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 587 if starttls else 25),
        implicit_tls=implicit_tls,
        starttls=starttls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        sender=sender,
        cafile=environ.get(CAFILE_VARIABLE) or None,
    )


HEADER_POLICY = email.policy.SMTP.clone(max_line_length=998)


def message_id(key: str) -> str:
    """`<key@campaign-guard>`; characters a Message-ID cannot hold are %-escaped, so distinct keys stay distinct."""
    return f"<{quote(key, safe=_ATEXT)}@campaign-guard>"


def build(recipients: Sequence[str], rendered: Rendered, *, key: str, sender: str) -> EmailMessage:
    """One message to all recipients; HTML goes with a plain-text alternative.

    Header lines may be 998 characters (RFC 5322): folding a subject right after "Subject:" makes
    some readers show it with a leading space.
    """
    message = EmailMessage(policy=HEADER_POLICY)
    message["Subject"] = " ".join(rendered.subject.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(key)
    if rendered.format == "html":
        message.set_content(html_to_text(rendered.body), charset="utf-8")
        message.add_alternative(rendered.body, subtype="html", charset="utf-8")
    else:
        message.set_content(rendered.body, charset="utf-8")
    return message


def send(
    recipients: Sequence[str], rendered: Rendered, *, key: str, environ: Mapping[str, str], timeout: float
) -> None:
    config = settings(environ)
    addresses = [_address(recipient) for recipient in recipients]
    message = build(recipients, rendered, key=key, sender=config.sender)
    try:
        context = ssl.create_default_context(cafile=config.cafile)
    except OSError as error:
        raise _config(f"{CAFILE_VARIABLE}={config.cafile}: {error.strerror or error}") from None
    try:
        client = _connect(config, context, timeout)
    except (smtplib.SMTPException, OSError) as error:
        raise _failure(error, config) from None
    try:
        if config.starttls:
            client.starttls(context=context)
        if config.user is not None:
            client.login(config.user, config.password or "")
        refused = client.send_message(message, from_addr=config.sender, to_addrs=addresses)
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        client.close()
        raise _failure(error, config) from None
    _quit(client)
    if refused:
        # Retrying would send the accepted copies twice; the refusal has to be looked at instead.
        raise DeliveryError(
            f"{config.where} accepted the message for {len(addresses) - len(refused)} of {len(addresses)} "
            f"recipients and refused {_refusals(refused)}; not retried, so nobody receives it twice",
            retryable=False,
        )


def _connect(config: Settings, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    if config.implicit_tls:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=timeout)


def _quit(client: smtplib.SMTP) -> None:
    """The message is delivered once the server accepted it; a failing goodbye must not cause a resend."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _address(recipient: str) -> str:
    address = parseaddr(recipient)[1]
    if "@" not in address or _has_line_break(recipient):
        raise DeliveryError(f"email recipient {recipient!r} is not an e-mail address", retryable=False)
    return address


def _failure(error: Exception, config: Settings) -> DeliveryError:
    where = config.where
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return DeliveryError(
            f"{where} refused every recipient: {_refusals(error.recipients)}",
            retryable=not all(_permanent(code) for code in codes),
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"{where}: {error} Check {URL_VARIABLE}.", retryable=False)
    if isinstance(error, smtplib.SMTPResponseException):
        what = "authentication failed" if isinstance(error, smtplib.SMTPAuthenticationError) else "refused"
        return DeliveryError(
            f"{where} {what}: {error.smtp_code} {_reply(error.smtp_error)}", retryable=not _permanent(error.smtp_code)
        )
    if isinstance(error, UnicodeError):  # smtplib sends credentials and addresses as ASCII only
        return DeliveryError(f"{where}: the user name, password or an address is not ASCII", retryable=False)
    if isinstance(error, ssl.SSLCertVerificationError):
        return DeliveryError(
            f"{where}: certificate not trusted ({error.verify_message}); "
            f"for a private CA set {CAFILE_VARIABLE} to its certificate file",
            retryable=True,
        )
    return DeliveryError(f"{where}: {str(error) or type(error).__name__}", retryable=True)


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{recipient} ({code} {_reply(reply)})" for recipient, (code, reply) in refused.items())


def _reply(reply: bytes | str) -> str:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _has_line_break(text: str) -> bool:
    return "\r" in text or "\n" in text


def _config(message: str) -> DeliveryError:
    return DeliveryError(f"email: {message}", retryable=False)

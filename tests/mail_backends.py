"""Mail backends that fail the way real mail servers do, for the notification tests."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend

# Every message a failing backend was asked to send: proof the mail path ran.
attempts = []


class RefusingBackend(BaseEmailBackend):
    """The mail server is down: the connection is refused."""

    def send_messages(self, email_messages):
        attempts.extend(email_messages)
        raise ConnectionRefusedError(111, "Connection refused")


class SMTPErrorBackend(BaseEmailBackend):
    """The mail server answers, but with an error."""

    def send_messages(self, email_messages):
        attempts.extend(email_messages)
        raise smtplib.SMTPException("451 Temporary local problem - please try later")

"""The one answer an unknown sender gets where unknown senders are refused."""

from django.core.mail import EmailMessage

from .. import notifications
from .headers import new_message_id


def send_invitation(address, department, subject, in_reply_to, language):
    context = {
        "department": department,
        "form_url": department.full_url,
        "login_required": department.login_required,
        "paid": department.support_mode != department.SupportMode.FREE,
        "original_subject": subject,
    }
    mail_subject, body = notifications.render_mail("mail_unknown_sender", context, language)
    from_email = notifications.from_email()
    headers = {
        "Message-ID": new_message_id(from_email=from_email),
        "Auto-Submitted": "auto-replied",
    }
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    message = EmailMessage(mail_subject, body, from_email, [address], headers=headers)
    return message.send()

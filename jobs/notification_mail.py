"""E-mail copies of in-app notifications (sent after the commit that created them), with
absolute links to the recipients' pages on PUBLIC_URL."""
from app.extensions import db
from app.services.notifications.mail import deliver_emails
from app.web.shared.notifications.links import external_link


def send_notification_emails(notification_ids: list[int]) -> int:
    """Safe to run twice: notices already mailed are skipped."""
    sent = deliver_emails(notification_ids, external_link)
    db.session.commit()
    return sent

"""E-mail copies of in-app notifications (sent after the commit that created them)."""
from app.extensions import db
from app.services.notifications import deliver_emails


def send_notification_emails(notification_ids: list[int]) -> int:
    """Safe to run twice: notices already mailed are skipped."""
    sent = deliver_emails(notification_ids)
    db.session.commit()
    return sent

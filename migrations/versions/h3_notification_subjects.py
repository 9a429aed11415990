"""notifications store their subject, the role addressed and a message code with params

Revision ID: h3_notification_subjects
Revises: 2c13e6a5621a
Create Date: 2026-12-02 18:40:00

A notice no longer stores finished text (translated in the language of whoever triggered it) or
a URL (built from a route name). Existing rows are converted as well as they can be:
- `role` comes from `audience` ("admin:stock" → "admin"), or from the user's role;
- `subject`, `subject_id`, `subject_scope_id` are read back from the stored link when it is one
  of the pages notices linked to (orders, replenishment orders, returns, stock pages);
- the old title and body are kept as written, as the message "plain".
Then `audience`, `title`, `body` and `link` are dropped. Downgrade restores them (the title and
body as the default-language text of "plain" rows, or the message code; the link empty).
"""
import json
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h3_notification_subjects'
down_revision = '2c13e6a5621a'
branch_labels = None
depends_on = None

LINKS = [
    (re.compile(r"^/retailer/orders/(\d+)$"), "order"),
    (re.compile(r"^/rep/orders/(\d+)$"), "order"),
    (re.compile(r"^/dealer/replenishment/orders/(\d+)$"), "order"),
    (re.compile(r"^/(?:dealer|admin)/orders/(\d+)$"), "sales_order"),
    (re.compile(r"^/(?:dealer|admin)/returns/(\d+)$"), "return"),
    (re.compile(r"^/retailer/returns()$"), "return"),
    (re.compile(r"^/(?:dealer|admin)/stock/(\d+)/(\d+)$"), "stock"),
]
BATCH = 1000


def subject_of(link):
    """(subject, subject_id, subject_scope_id) read back from an old link, or Nones."""
    path = (link or "").split("?")[0].rstrip("/") or ""
    for pattern, subject in LINKS:
        match = pattern.match(path)
        if match is None:
            continue
        if subject == "stock":
            return subject, int(match.group(2)), int(match.group(1))
        return subject, int(match.group(1)) if match.group(1) else None, None
    return None, None, None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject_scope_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('message', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))

    connection = op.get_bind()
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                             sa.column('audience', sa.String), sa.column('title', sa.String),
                             sa.column('body', sa.Text), sa.column('link', sa.String),
                             sa.column('role', sa.String), sa.column('subject', sa.String),
                             sa.column('subject_id', sa.Integer), sa.column('subject_scope_id', sa.Integer),
                             sa.column('message', sa.String), sa.column('params', sa.JSON))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('role', sa.String))
    update = (notifications.update().where(notifications.c.id == sa.bindparam('row_id'))
              .values(role=sa.bindparam('new_role'), subject=sa.bindparam('new_subject'),
                      subject_id=sa.bindparam('new_subject_id'),
                      subject_scope_id=sa.bindparam('new_scope_id'), message='plain',
                      params=sa.bindparam('new_params', type_=sa.JSON)))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(notifications.c.id, notifications.c.audience, notifications.c.title, notifications.c.body,
                      notifications.c.link, users.c.role)
            .select_from(notifications.join(users, users.c.id == notifications.c.user_id))
            .where(notifications.c.id > last).order_by(notifications.c.id).limit(BATCH)).all()
        if not rows:
            break
        changes = []
        for row_id, audience, title, body, link, user_role in rows:
            subject, subject_id, scope_id = subject_of(link)
            changes.append({"row_id": row_id, "new_role": (audience or user_role or "").split(":")[0],
                            "new_subject": subject, "new_subject_id": subject_id, "new_scope_id": scope_id,
                            "new_params": {"title": title or "", "body": body or ""}})
        connection.execute(update, changes)
        last = rows[-1][0]

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('message', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('params', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('link')
        batch_op.drop_column('body')
        batch_op.drop_column('title')
        batch_op.drop_column('audience')


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('link', sa.String(length=300), nullable=True))

    connection = op.get_bind()
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('role', sa.String),
                             sa.column('message', sa.String), sa.column('params', sa.JSON),
                             sa.column('audience', sa.String), sa.column('title', sa.String),
                             sa.column('body', sa.Text), sa.column('link', sa.String))
    update = (notifications.update().where(notifications.c.id == sa.bindparam('row_id'))
              .values(audience=sa.bindparam('old_audience'), title=sa.bindparam('old_title'),
                      body=sa.bindparam('old_body'), link=''))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(notifications.c.id, notifications.c.role, notifications.c.message, notifications.c.params)
            .where(notifications.c.id > last).order_by(notifications.c.id).limit(BATCH)).all()
        if not rows:
            break
        changes = []
        for row_id, role, message, params in rows:
            params = json.loads(params) if isinstance(params, str) else (params or {})
            plain = message == 'plain'
            changes.append({"row_id": row_id, "old_audience": role,
                            "old_title": str(params.get("title") if plain else message)[:200],
                            "old_body": str(params.get("body") or "") if plain else ""})
        connection.execute(update, changes)
        last = rows[-1][0]

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('title', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('link', existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column('params')
        batch_op.drop_column('message')
        batch_op.drop_column('subject_scope_id')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject')
        batch_op.drop_column('role')

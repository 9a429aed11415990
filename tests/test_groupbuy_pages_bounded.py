"""The group-buy lists and the campaign page read a fixed number of statements, whatever the
number of campaigns or shops (no query per row), and the close is on the cron schedule."""
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from app.services.campaigns import groupbuy
from tests import builders_groupbuy as gb
from tests import factories


@contextmanager
def counted(app):
    seen = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(app, client, url):
    client.get(url)  # warm: session, price book, translations
    with counted(app) as seen:
        assert client.get(url).status_code == 200
    return len(seen)


def _campaigns_with_shops(world, campaigns, shops):
    product = factories.product()
    made = []
    for n in range(campaigns):
        row = gb.campaign(world.orgs["dealer"], product, name=f"集单{n}")
        for _ in range(shops):
            user, shop = gb.shop_of(world)
            groupbuy.commit_quantity(user, shop, row.id, 10)
        made.append(row)
    db.session.commit()
    return made


def test_the_campaign_page_reads_the_same_whatever_the_number_of_shops(app, world, login_as):
    small, big = _campaigns_with_shops(world, 1, 2)[0], _campaigns_with_shops(world, 1, 12)[0]
    dealer = login_as("dealer")
    assert _statements(app, dealer, f"/dealer/groupbuys/{small.id}") == \
        _statements(app, dealer, f"/dealer/groupbuys/{big.id}")


def test_the_lists_read_the_same_whatever_the_number_of_campaigns(app, world, login_as):
    _campaigns_with_shops(world, 2, 1)
    dealer, retailer = login_as("dealer"), login_as("retailer")
    before = (_statements(app, dealer, "/dealer/groupbuys"), _statements(app, retailer, "/retailer/groupbuys"))
    _campaigns_with_shops(world, 6, 1)
    assert (_statements(app, dealer, "/dealer/groupbuys"), _statements(app, retailer, "/retailer/groupbuys")) == before


def test_the_close_sweep_is_on_the_cron_schedule():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.groupbuy.")]
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.groupbuy.close_due_job", "*/10 * * * *", "default")

"""Backup and restore: a backup made, the data changed, the backup restored gives the data (and
the uploads) back; the restore drill (`--verify`) restores into a scratch database and finds
every table equal to the manifest, and refuses a damaged or a substituted dump. Runs on the
configured database: SQLite (online-backup API) or PostgreSQL (pg_dump / pg_restore, scratch
database `<test database>_scratch`)."""
import json
import pathlib
import shutil

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Product
from app.services.ops import backup as ops
from app.services.ops.fingerprints import file_sha256
from tests import factories


def _url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _scratch() -> str | None:
    return ops.scratch_database_url(_url()) if db.engine.dialect.name == "postgresql" else None


def _let_go() -> None:
    """Close our connections, as the CLI does before a restore (PostgreSQL drops the schema)."""
    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def media(tmp_path) -> pathlib.Path:
    root = tmp_path / "media"
    (root / "products" / "7").mkdir(parents=True)
    (root / "products" / "7" / "original.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (root / "imports.csv").write_text("code,qty\nA,1\n")
    return root


@pytest.fixture
def made(world, media, tmp_path):
    factories.product(code="KEEP-1", name_zh="原名")
    db.session.commit()
    return ops.create_backup(_url(), tmp_path / "backups", media)


def test_backup_then_change_then_restore_gives_the_data_and_uploads_back(made, media):
    assert made.path.name.startswith("lianying-") and (made.path / "manifest.json").is_file()
    assert made.manifest["tables"]["products"]["rows"] == 1 and made.manifest["media"]["files"] == 2
    assert made.manifest["alembic_revision"]

    db.session.scalar(select(Product).where(Product.code == "KEEP-1")).name_zh = "改过的名字"
    factories.product(code="AFTER-BACKUP")
    db.session.commit()
    (media / "imports.csv").write_text("changed")
    (media / "stray.txt").write_text("added after the backup")
    _let_go()

    ops.restore_backup(made.path, _url(), media)

    assert db.session.scalars(select(Product.code)).all() == ["KEEP-1"]
    assert db.session.scalar(select(Product.name_zh)) == "原名"
    assert (media / "imports.csv").read_text() == "code,qty\nA,1\n"
    assert not (media / "stray.txt").exists()
    assert (media / "products" / "7" / "original.jpg").read_bytes() == b"\xff\xd8 not really a jpeg"


def test_the_restore_drill_finds_every_table_and_upload_equal(made):
    check = ops.verify_backup(made.path, _scratch(), _url())
    assert check.ok, check.problems
    assert check.tables == len(made.manifest["tables"]) > 40
    assert check.rows == sum(t["rows"] for t in made.manifest["tables"].values()) > 10
    assert check.media_files == 2


def test_a_damaged_dump_fails_the_drill_and_is_not_restored(made):
    dump = made.path / made.manifest["database"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    check = ops.verify_backup(made.path, _scratch(), _url())
    assert not check.ok and "damaged or tampered" in check.problems[0]
    with pytest.raises(ops.BackupError):
        ops.restore_backup(made.path, _url(), None)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1  # the live database untouched


def test_a_substituted_dump_with_a_matching_file_hash_fails_on_the_tables(made, tmp_path):
    """Someone puts another database's dump in place and fixes the file hash: the tables give it away."""
    factories.product(code="NOT-IN-THE-FIRST")
    db.session.commit()
    other = ops.create_backup(_url(), tmp_path / "other", None)
    name = made.manifest["database"]["file"]
    shutil.copyfile(other.path / name, made.path / name)
    manifest = json.loads((made.path / "manifest.json").read_text())
    manifest["database"].update(bytes=(made.path / name).stat().st_size, sha256=file_sha256(made.path / name))
    (made.path / "manifest.json").write_text(json.dumps(manifest))

    check = ops.verify_backup(made.path, _scratch(), _url())
    assert not check.ok
    assert any(p.startswith("products: 2 rows restored, 1 backed up") for p in check.problems), check.problems


def test_backup_and_restore_commands(app, world, media, tmp_path):
    factories.product(code="CLI-1")
    db.session.commit()
    runner = app.test_cli_runner()
    scratch = ["--scratch-url", _scratch()] if _scratch() else []
    saved = app.config["MEDIA_ROOT"]
    app.config["MEDIA_ROOT"] = str(media)
    try:
        result = runner.invoke(args=["backup", "--to", str(tmp_path / "b"), "--verify", *scratch])
        assert result.exit_code == 0, result.output
        assert "Verified lianying-" in result.output and "2 uploaded files" in result.output
        [path] = (tmp_path / "b").iterdir()

        db.session.scalar(select(Product)).code = "CHANGED"
        db.session.commit()
        result = runner.invoke(args=["restore", str(path)], input="n\n")
        assert result.exit_code != 0  # asked, and said no
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code == 0, result.output
        assert db.session.scalars(select(Product.code)).all() == ["CLI-1"]

        (path / "media.tar.gz").write_bytes(b"not a tarball")
        result = runner.invoke(args=["restore", str(path), "--verify", *scratch])
        assert result.exit_code == 1 and "did NOT verify" in result.output
    finally:
        app.config["MEDIA_ROOT"] = saved


def test_prune_keeps_the_newest_backups(world, tmp_path):
    made = [ops.create_backup(_url(), tmp_path, None) for _ in range(3)]
    (tmp_path / "lianying-00000000T000000000000Z.partial").mkdir()  # an unfinished one is not counted
    deleted = ops.prune(tmp_path, keep=2)
    assert deleted == [made[0].path]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".partial")) == \
        [made[1].path.name, made[2].path.name]

"""Copy front-end packages from node_modules into static/dist/ under content-hashed names.

The hashed file is what templates link to (see app/assets.py); it is built, never committed.
"""
import hashlib
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENDORED = {"htmx": ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"}


def main() -> None:
    dist = ROOT / "static" / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    for name, source in VENDORED.items():
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
        target = dist / f"{name}.{digest}.min.js"
        if not target.exists():
            for stale in dist.glob(f"{name}.*.min.js"):
                stale.unlink()
            shutil.copyfile(source, target)
        print(f"static: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

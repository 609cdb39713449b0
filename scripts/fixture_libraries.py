"""Make the fixture libraries of earlier schemas (tests/fixtures/libraries/schema-NN.tar.zst), once per era.

For each era, the newest commit that wrote that schema is checked out in a temporary git worktree, and this
script runs again with that commit's code first on sys.path (``--build``): it fills a small library through
that version's own API with whatever the version had (pictures, ratings, tags, captions, the scrapheap,
projects, sets, characters, embeddings, faces, snapshots, undo history, an owner, tokens and share links)
and writes ``expected.json``: what a newer version must find there. tests/test_upgrades.py opens each with
today's code. Run it again only to add the era a new migration closes:

    .venv/bin/python scripts/fixture_libraries.py [--schema N ...]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "libraries"
# where the schema was: the SQL layer was storage/ before the layout by concept
SCHEMA_FILES = ("pixlstash-core/pixlstash/db/schema.py", "pixlstash-core/pixlstash/storage/schema.py")
PASSWORD = "correct horse battery staple"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


def _schema_at(commit: str) -> int | None:
    for path in SCHEMA_FILES:
        try:
            text = _git("show", f"{commit}:{path}")
            break
        except subprocess.CalledProcessError:
            continue
    else:
        return None
    block = re.search(r"MIGRATIONS[^=]*= \[(.*?)\n\]", text, re.S)
    return max(int(n) for n in re.findall(r"^\s*\((\d+),", block.group(1), re.M)) if block else None


def eras() -> dict[int, str]:
    """Schema version -> the newest commit that wrote it (the last before the next migration)."""
    commits = _git("rev-list", "--reverse", "HEAD").split()
    newest: dict[int, str] = {}
    changes = set(
        _git(
            "rev-list", "HEAD", "--", *SCHEMA_FILES, "pixlstash-core/pixlstash/storage/", "pixlstash-core/pixlstash/db/"
        ).split()
    )
    version = None
    for commit in commits:
        if commit in changes or version is None:
            version = _schema_at(commit)
        if version is not None:
            newest[version] = commit
    current = _schema_at("HEAD")
    newest.pop(current, None)  # today's schema is no earlier era
    return newest


def make(schema: int, commit: str) -> None:
    target = FIXTURES / f"schema-{schema:02d}.tar.zst"  # SQLite's empty pages compress to almost nothing
    with tempfile.TemporaryDirectory(prefix="pixlstash-era-") as scratch:
        tree = Path(scratch) / "tree"
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            paths = [tree / "pixlstash-core", tree / "pixlstash-web"]
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
            env["PIXLSTASH_LOAD_PLUGINS"] = ""  # only the era's built-ins: today's plugins do not fit old code
            library = Path(scratch) / "library"
            subprocess.run([sys.executable, __file__, "--build", str(library), "--commit", commit], env=env, check=True)
            _pack(library, target)
        finally:
            _git("worktree", "remove", "--force", str(tree))
    print(f"schema {schema}: {commit[:10]} -> {target.relative_to(REPO)}")


def _pack(library: Path, target: Path) -> None:
    """The library as a zstd-compressed tar of plain files (no scratch, locks or index caches)."""
    import zstandard

    skipped = {"tmp", "indexes"}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(library.rglob("*")):
            relative = path.relative_to(library)
            if path.is_file() and not path.is_symlink() and relative.parts[0] not in skipped and path.name != "lock":
                tar.add(path, arcname=str(relative), recursive=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zstandard.ZstdCompressor(level=19).compress(buffer.getvalue()))


# ---- what runs inside an era's code (--build) ----------------------------------------------------------


def _pictures(folder: Path) -> list[Path]:
    from PIL import Image, PngImagePlugin

    made = []
    for n, (colour, size) in enumerate([((200, 40, 40), (64, 48)), ((40, 160, 60), (48, 64)), ((40, 60, 200), (56, 56)),
                                        ((230, 200, 30), (72, 40))]):  # fmt: skip
        image = Image.new("RGB", size, colour)
        for x in range(0, size[0], 8):  # some detail, so each picture hashes apart from the others
            for y in range(n, size[1], 6):
                image.putpixel((x, y), (x * 3 % 255, y * 5 % 255, (x + y) % 255))
        info = PngImagePlugin.PngInfo()
        info.add_text(
            "parameters", f"a red fox, studio light\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {n + 1}"
        )
        path = folder / f"fixture-{n}.png"
        image.save(path, pnginfo=info)
        made.append(path)
    return made


def build(root: Path, commit: str) -> None:
    import pixlstash
    from pixlstash.library import Library

    assert str(Path(pixlstash.__file__).resolve()).startswith(os.environ["PYTHONPATH"].split(os.pathsep)[0])
    from pixlstash.plugins import make_plugin_manager

    expected: dict[str, object] = {"commit": commit, "version": getattr(pixlstash, "__version__", "?")}
    missing: dict[str, str] = {}

    def attempt(name: str, action) -> object:
        try:
            return action()
        except Exception as error:  # this era lacks it (or has it otherwise): recorded, not fatal
            missing[name] = f"{type(error).__name__}: {error}"[:300]
            traceback.print_exc(limit=2)
            return None

    def edit(old: str, new: str):
        """A person's edit as the version has it: on the library itself before the layout by concept (as
        the fixtures were made), through its undo history (``edits``) since."""
        return getattr(library, old) if hasattr(library, old) else getattr(library.edits, new)

    inbox = root.parent / "inbox"
    inbox.mkdir()
    _pictures(inbox)
    library = Library.open(root, plugin_manager=make_plugin_manager())
    try:
        report = library.import_paths([inbox])
        ids = sorted(getattr(item, "picture_id", getattr(item, "id", None)) for item in report.imported)
        expected["schema"] = int(library.db.connection.execute("PRAGMA user_version").fetchall()[0][0])
        expected["names"] = {str(i): library.get(i).original_name for i in ids}  # (imported in any order)
        attempt("ratings", lambda: edit("update_pictures", "set_fields")(ids[:2], rating=4))
        if "ratings" not in missing:
            expected["ratings"] = {str(ids[0]): 4, str(ids[1]): 4}
        attempt("tags", lambda: edit("tag_pictures", "tag")(ids[:3], add=["fox"]))
        attempt("tags2", lambda: edit("tag_pictures", "tag")([ids[0]], add=["studio light"]))
        if "tags" not in missing:
            expected["tags"] = {"fox": 3, "studio light": 1 if "tags2" not in missing else 0}
        attempt("caption", lambda: edit("set_caption", "caption")(ids[1], "a green fox"))
        if "caption" not in missing:
            expected["captions"] = {str(ids[1]): "a green fox"}

        def project() -> int:
            return library.organise.create_project("Foxes", "every fox").id

        project_id = attempt("projects", project)
        if project_id is not None:
            attempt("project members", lambda: library.organise.add_to_project(project_id, ids[:2]))
            expected["projects"] = {"Foxes": 2 if "project members" not in missing else 0}
        collections = {}
        for kind, name, members in (("set", "Best", ids[:2]), ("character", "Vixen", ids[2:3])):

            def collection(kind=kind, name=name, members=members) -> int:
                made = library.organise.create_collection(kind, name)
                library.organise.add_members(made.id, members)
                return len(members)

            count = attempt(f"{kind}s", collection)
            if count is not None:
                collections.setdefault(kind, {})[name] = count
        expected["collections"] = collections
        attempt("scrap", lambda: edit("scrap", "scrap")([ids[3]]))
        expected["scrapped"] = 0 if "scrap" in missing else 1
        expected["active"] = len(ids) - expected["scrapped"]

        def embeddings() -> int:
            import numpy as np

            for n, picture_id in enumerate(ids):
                vector = np.linspace(0, 1, 16, dtype=np.float32) + n
                vector /= np.linalg.norm(vector)
                library.vectors.put_embedding(picture_id, "fixture/embedder", "1", vector, 1_700_000_000_000)
            return len(ids)

        expected["embeddings"] = attempt("embeddings", embeddings)

        def faces() -> int:
            import numpy as np

            try:
                from pixlstash.db import vectors
            except ImportError:  # a version before the layout by concept: the SQL layer was storage/
                from pixlstash.storage import vectors

            vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
            landmarks = [(20.0, 20.0), (40.0, 20.0), (30.0, 30.0), (22.0, 40.0), (38.0, 40.0)]
            face = (
                vectors.FaceRow((10.0, 10.0, 50.0, 50.0), 0.99, landmarks, vector)
                if hasattr(vectors, "FaceRow")
                else ((10.0, 10.0, 50.0, 50.0), 0.99, landmarks, vector)  # before FaceRow: a plain tuple
            )
            library.vectors.replace_faces(ids[2], "fixture/faces", "1", [face], 1_700_000_000_000)
            return 1

        expected["faces"] = attempt("faces", faces)

        def history() -> int:
            library.edits.tag([ids[2]], add=["undo me"])
            return len(library.edits.history().steps)

        expected["history_steps"] = attempt("history", history)

        def snapshot() -> int:
            if hasattr(library, "new_snapshot_service"):
                service = library.new_snapshot_service()
            else:  # before the library made them
                from pixlstash.snapshots import SnapshotService

                service = SnapshotService(library)
            try:
                service.take("MANUAL", "before the upgrade")
            finally:
                getattr(service, "close", lambda: None)()
            return 1

        expected["snapshots"] = attempt("snapshots", snapshot)

        def accounts() -> dict[str, str]:
            from pixlstash.auth import Authenticator

            auth = Authenticator(root)
            (auth.create_owner if hasattr(auth, "create_owner") else auth.create_user)("owner", PASSWORD)
            secret = auth.create_token("fixture", "read").secret
            found = {"owner": "owner", "password": PASSWORD, "token": secret}
            share = attempt("shares", lambda: _share(library, auth, project_id, collections))
            if share is not None:
                found["share"] = share
            getattr(auth, "close", lambda: None)()
            return found

        expected["accounts"] = attempt("accounts", accounts)
    finally:
        library.close()
    expected["missing"] = missing
    (root / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(inbox)


def _share(library, auth, project_id, collections) -> str:
    if hasattr(library, "new_share_service"):
        service = library.new_share_service(auth)
    else:  # before the library made them
        from pixlstash.shares import ShareService

        service = ShareService(library, auth)
    best = next(c for c in library.collections.collections("set") if c.name == "Best")
    made = service.create("set", best.id)
    return made[1] if isinstance(made, tuple) else made.token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schema", type=int, action="append", help="only this era (repeatable)")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--commit", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.build, args.commit)
        return
    for schema, commit in sorted(eras().items()):
        if not args.schema or schema in args.schema:
            make(schema, commit)


if __name__ == "__main__":
    main()

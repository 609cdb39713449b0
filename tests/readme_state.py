"""Run by the README test between the README's blocks: ``dump FILE`` writes what a person's edits left in
the library (tags, ratings, captions, set and character memberships, by picture content), and
``auto-snapshot`` takes the snapshot a running server takes on its own once pictures arrive."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pixlstash.library import Library


def facts(library: Library) -> list[list[str]]:
    query = library.db.query
    found = [
        ["tag", h, t]
        for h, t in query(
            "SELECT p.content_hash, t.name FROM picture_tags pt JOIN pictures p ON p.id = pt.picture_id "
            "JOIN tags t ON t.id = pt.tag_id WHERE pt.source = 'user'"
        )
    ]
    found += [["rating", h, str(r)] for h, r in query("SELECT content_hash, rating FROM pictures WHERE rating > 0")]
    found += [
        ["caption", h, t]
        for h, t in query(
            "SELECT p.content_hash, c.text FROM captions c JOIN pictures p ON p.id = c.picture_id "
            "WHERE c.source = 'user'"
        )
    ]
    found += [
        [kind, h, name]
        for kind, h, name in query(
            "SELECT c.kind, p.content_hash, c.name FROM collection_members m "
            "JOIN collections c ON c.id = m.collection_id JOIN pictures p ON p.id = m.picture_id"
        )
    ]
    return sorted(found)


def main() -> None:
    root = Path(os.environ["PIXLSTASH_LIBRARY"])
    with Library.open(root, create=False) as library:
        if sys.argv[1] == "dump":
            Path(sys.argv[2]).write_text(json.dumps(facts(library)))
        elif sys.argv[1] == "auto-snapshot":
            service = library.new_snapshot_service()
            try:
                service.take("DAILY", None)
            finally:
                service.close()


if __name__ == "__main__":
    main()

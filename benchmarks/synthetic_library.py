"""Build a synthetic library directly in the database: a million pictures in a few minutes.

    .venv/bin/python benchmarks/synthetic_library.py PATH [--pictures 1000000] [--tags-per-picture 10]
        [--sets 1000] [--characters 200] [--seed 0]

Pictures have no files (thumbnails and originals are not made); everything else is as an import
would write it: tags from a Zipf-shaped vocabulary (a few very common, many rare), ratings, dates,
sizes, sets, characters and projects. Triggers and secondary indexes are dropped during the bulk load
and rebuilt afterwards, and the counters they maintain are computed in bulk, which is what makes
the load fast; the result is exactly what the triggers would have produced.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pixlstash-core"))

from pixlstash.library import Library

TAG_VOCABULARY = 20_000
PROJECTS = 20
_DAY_MS = 86_400_000
_START_MS = 1_500_000_000_000  # 2017-07-14


def _zipf_tags(rng: np.random.Generator, pictures: int, per_picture: int) -> np.ndarray:
    """(pictures, per_picture) distinct tag ids in 1..TAG_VOCABULARY with a Zipf-like popularity."""
    weights = 1.0 / np.arange(1, TAG_VOCABULARY + 1) ** 0.9
    weights /= weights.sum()
    tags = rng.choice(TAG_VOCABULARY, size=(pictures, per_picture * 2), p=weights) + 1
    tags.sort(axis=1)
    out = np.zeros((pictures, per_picture), dtype=np.int64)
    for row in range(pictures):  # keep the first distinct ids (duplicates are rare)
        unique = np.unique(tags[row])
        if len(unique) < per_picture:
            extra = rng.choice(
                np.setdiff1d(np.arange(1, TAG_VOCABULARY + 1), unique), per_picture - len(unique), replace=False
            )
            unique = np.concatenate([unique, extra])
        out[row] = rng.permutation(unique)[:per_picture]
    return out


def _vectors(rng: np.random.Generator, count: int, dims: int) -> np.ndarray:
    """Embedding-like vectors, L2-normalised float32: a shared mean direction, a power-law spectrum, and
    semantic clusters of about 50 pictures (real image embeddings look like this, not like isotropic
    noise). The same generator state gives the same basis, so batches share one space."""
    spectrum = (np.arange(1, dims + 1) ** -0.8).astype(np.float32)
    basis = _BASES.setdefault(
        dims, np.linalg.qr(np.random.default_rng(12345).normal(size=(dims, dims)))[0].astype(np.float32)
    )
    centers = (rng.normal(size=(max(1, count // 50), dims)).astype(np.float32) * spectrum) @ basis.T
    labels = rng.integers(0, len(centers), count)
    vectors = centers[labels] + 0.5 * (rng.normal(size=(count, dims)).astype(np.float32) * spectrum) @ basis.T
    vectors += 0.6 * float(np.linalg.norm(centers, axis=1).mean()) / np.sqrt(dims)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


_BASES: dict[int, np.ndarray] = {}


CHECKPOINTS = ["sd_xl_base_1.0", "juggernautXL_v9", "ponyDiffusionV6XL", "realvisxlV40", "animagineXL31"]
LORAS = [f"lora_{n:02d}" for n in range(30)] + ["film_grain", "add_detail"]
SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "dpmpp_2m_sde", "ddim"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform"]
PROMPT_TAGS = [f"tag {n}" for n in range(500)]


def _generation(rng: np.random.Generator, pictures: int, rating: np.ndarray) -> list[tuple]:
    """Each picture's generation settings, as ComfyUI users have them (a few checkpoints, many LoRAs, tag
    prompts); ``rating`` is changed in place so that two settings matter: film_grain at 0.6-0.8 is kept
    about three times as often as average, and ddim less than half as often."""
    weights = 1.0 / np.arange(1, len(PROMPT_TAGS) + 1) ** 0.8
    weights /= weights.sum()
    rows = []
    for n in range(pictures):
        loras = []
        for name in rng.choice(LORAS, int(rng.integers(0, 4)), replace=False):
            loras.append({"name": str(name), "weight": round(float(rng.uniform(0.2, 1.2)), 2)})
        sampler = str(rng.choice(SAMPLERS))
        grain = any(lora["name"] == "film_grain" and 0.6 <= lora["weight"] < 0.8 for lora in loras)
        if grain and rng.random() < 0.6:
            rating[n] = rng.choice([4, 5])
        elif sampler == "ddim" and rating[n] >= 4 and rng.random() < 0.6:
            rating[n] = rng.choice([0, 1, 2])
        tags = rng.choice(len(PROMPT_TAGS), int(rng.integers(8, 16)), replace=False, p=weights)
        rows.append(
            (
                ", ".join(PROMPT_TAGS[t] for t in tags),
                str(rng.choice(CHECKPOINTS)),
                json.dumps(loras),
                str(int(rng.integers(0, 2**63))),
                sampler,
                str(rng.choice(SCHEDULERS)),
                int(rng.choice([20, 25, 28, 30, 35, 40])),
                float(rng.choice([3.5, 5.0, 6.0, 7.0, 7.5, 8.0])),
            )
        )
    return rows


def build(
    root: Path,
    pictures: int,
    tags_per_picture: int = 10,
    sets: int = 1000,
    characters: int = 200,
    seed: int = 0,
    log=print,
    embedding_dims: int = 0,
    faces: bool = False,
    generation: bool = False,
) -> Path:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with Library.open(root) as library:
        conn = library.db.connection
        if conn.execute("SELECT count(*) FROM pictures").fetchone()[0]:
            raise SystemExit(f"{root} already holds pictures; give an empty folder")
        ddl = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL"
        ).fetchall()
        for name, sql in ddl:
            conn.execute(f"DROP {'TRIGGER' if sql.upper().startswith('CREATE TRIGGER') else 'INDEX'} {name}")
        conn.pragma("synchronous", "off")
        conn.pragma("cache_size", -1_000_000)

        ids = np.arange(1, pictures + 1, dtype=np.int64)
        taken = _START_MS + rng.integers(0, 3650 * _DAY_MS, pictures)
        imported = _START_MS + 3650 * _DAY_MS + np.sort(rng.integers(0, 365 * _DAY_MS, pictures))
        rating = rng.choice(6, pictures, p=[0.5, 0.05, 0.1, 0.15, 0.12, 0.08])
        made = _generation(rng, pictures, rating) if generation else None
        width = rng.choice([512, 768, 1024, 1536, 2048, 3000, 4096], pictures)
        height = (width * rng.choice([0.5625, 0.75, 1.0, 1.333, 1.5], pictures)).astype(np.int64)
        size = (width * height * rng.uniform(0.1, 0.6, pictures)).astype(np.int64)
        phash = rng.integers(-(1 << 63), (1 << 63) - 1, pictures, dtype=np.int64)
        shuffle = rng.integers(0, (1 << 63) - 1, pictures, dtype=np.int64)
        video = rng.random(pictures) < 0.02
        log(f"generated columns in {time.perf_counter() - started:.1f} s")

        with library.db.write():
            source = conn.execute(
                "INSERT INTO sources(kind, label, created_at) VALUES ('folder', 'synthetic', 0) RETURNING id"
            ).fetchone()[0]
            conn.executemany(
                "INSERT INTO pictures(id, content_hash, suffix, media_type, mime, file_size, width, height, pixels, "
                "taken_at, imported_at, rating, phash, shuffle, source_id, original_name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        int(i),
                        f"{int(i):064x}",
                        ".mp4" if v else ".jpg",
                        "video" if v else "image",
                        "video/mp4" if v else "image/jpeg",
                        int(s),
                        int(w),
                        int(h),
                        int(w * h),
                        int(t),
                        int(im),
                        int(r),
                        int(ph),
                        int(sh),
                        source,
                        f"img_{int(i):07d}.jpg",
                    )
                    for i, v, s, w, h, t, im, r, ph, sh in zip(
                        ids, video, size, width, height, taken, imported, rating, phash, shuffle, strict=True
                    )
                ),
            )
        log(f"pictures in {time.perf_counter() - started:.1f} s")
        if made is not None:
            with library.db.write():
                conn.executemany(
                    "INSERT INTO generation(picture_id, tool, positive, checkpoint, loras, seed, sampler, scheduler, "
                    "steps, cfg) VALUES (?, 'comfyui', ?, ?, ?, ?, ?, ?, ?, ?)",
                    ((int(i), *row) for i, row in zip(ids, made, strict=True)),
                )
            log(f"generation data in {time.perf_counter() - started:.1f} s")

        tags = _zipf_tags(rng, pictures, tags_per_picture)
        pairs = np.stack([tags.ravel(), np.repeat(ids, tags_per_picture)], axis=1)
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        confidence = np.round(rng.uniform(0.35, 1.0, len(pairs)), 3)
        machine = rng.random(len(pairs)) < 0.7
        with library.db.write():
            conn.executemany(
                "INSERT INTO tags(id, name, category) VALUES (?, ?, ?)",
                ((t, f"tag_{t:05d}", "character" if t % 50 == 0 else "general") for t in range(1, TAG_VOCABULARY + 1)),
            )
            conn.executemany(
                "INSERT INTO picture_tags(tag_id, picture_id, source, confidence) VALUES (?, ?, ?, ?)",
                (
                    (int(t), int(p), "wd-tagger/vit-v3" if m else "user", float(c) if m else None)
                    for (t, p), c, m in zip(pairs, confidence, machine, strict=True)
                ),
            )
        log(f"{len(pairs):,} tag rows in {time.perf_counter() - started:.1f} s")

        with library.db.write():
            conn.executemany(
                "INSERT INTO projects(id, name, created_at) VALUES (?, ?, 0)",
                ((p, f"Project {p}") for p in range(1, PROJECTS + 1)),
            )
            collections = [("set", n) for n in range(1, sets + 1)]
            collections += [("character", n) for n in range(1, characters + 1)]
            conn.executemany(
                "INSERT INTO collections(id, kind, name, project_id, created_at) VALUES (?, ?, ?, ?, 0)",
                (
                    (cid, kind, f"{kind} {n}", int(rng.integers(1, PROJECTS + 1)))
                    for cid, (kind, n) in enumerate(collections, start=1)
                ),
            )
            members = []
            for cid, (kind, _) in enumerate(collections, start=1):
                # sets hold ~ pictures/sets*2 members, characters ~ pictures/characters/4
                count = pictures * 2 // max(sets, 1) if kind == "set" else pictures // max(characters, 1) // 4
                chosen = np.unique(rng.integers(1, pictures + 1, max(1, count)))
                members.append(np.stack([np.full(len(chosen), cid), chosen], axis=1))
            member_rows = np.concatenate(members)
            conn.executemany(
                "INSERT INTO collection_members(collection_id, picture_id, added_at) VALUES (?, ?, 0)",
                ((int(c), int(p)) for c, p in member_rows),
            )
        log(f"{len(member_rows):,} memberships in {time.perf_counter() - started:.1f} s")

        if embedding_dims:
            with library.db.write():
                for start in range(0, pictures, 10_000):
                    block = _vectors(rng, min(10_000, pictures - start), embedding_dims)
                    conn.executemany(
                        "INSERT INTO embeddings(picture_id, engine_id, engine_version, dims, vector, created_at) "
                        "VALUES (?, 'clip/ViT-B-32', '1', ?, ?, 0)",
                        ((start + n + 1, embedding_dims, row.tobytes()) for n, row in enumerate(block)),
                    )
            log(f"{pictures:,} embeddings of {embedding_dims} dimensions in {time.perf_counter() - started:.1f} s")
        if faces:
            counts = rng.choice([0, 1, 1, 2, 3], pictures)
            owners = np.repeat(ids, counts)
            with library.db.write():
                for start in range(0, len(owners), 10_000):
                    block = _vectors(rng, min(10_000, len(owners) - start), 512)
                    for n, row in enumerate(block):
                        face_id = conn.execute(
                            "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, "
                            "landmarks, created_at) VALUES (?, 'faces/buffalo_l', '1', 10, 20, 110, 140, 0.9, "
                            "'[[40,60],[80,60],[60,80],[45,100],[75,100]]', 0) RETURNING id",
                            (int(owners[start + n]),),
                        ).fetchone()[0]
                        conn.execute(
                            "INSERT INTO face_vectors(face_id, vector) VALUES (?, ?)", (face_id, row.tobytes())
                        )
            log(f"{len(owners):,} faces in {time.perf_counter() - started:.1f} s")

        with library.db.write():  # the counters and derived rows the triggers would have written
            conn.execute("UPDATE tags SET picture_count = (SELECT count(*) FROM picture_tags WHERE tag_id = tags.id)")
            conn.execute(
                "INSERT INTO tag_stats(tag_id, bucket, n) SELECT tag_id, "
                "coalesce(min(CAST(confidence * 10 AS INTEGER), 9), 10) AS b, count(*) FROM picture_tags "
                "GROUP BY tag_id, b"
            )
            conn.execute(
                "UPDATE collections SET member_count = (SELECT count(*) FROM collection_members "
                "WHERE collection_id = collections.id)"
            )
            conn.execute(
                "INSERT OR IGNORE INTO project_members(project_id, picture_id, direct) "
                "SELECT c.project_id, cm.picture_id, 0 FROM collection_members cm "
                "JOIN collections c ON c.id = cm.collection_id ORDER BY 1, 2"
            )
            conn.execute(
                "INSERT INTO picture_text(rowid, caption, prompt, name) SELECT id, NULL, NULL, original_name "
                "FROM pictures"
            )
            for table, kind in (("embeddings", "image"), ("faces", "face")):
                conn.execute(
                    f"INSERT OR REPLACE INTO vector_stamps(engine_id, kind, stamp, seq) "
                    f"SELECT engine_id, '{kind}', random(), 0 FROM (SELECT DISTINCT engine_id FROM {table})"
                )
            for _name, sql in ddl:
                conn.execute(sql)
        log(f"counters, indexes and triggers in {time.perf_counter() - started:.1f} s")
        conn.execute("ANALYZE")
        conn.pragma("synchronous", "normal")
    log(f"done: {pictures:,} pictures in {time.perf_counter() - started:.1f} s at {root}")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--pictures", type=int, default=1_000_000)
    parser.add_argument("--tags-per-picture", type=int, default=10)
    parser.add_argument("--sets", type=int, default=1000)
    parser.add_argument("--characters", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embeddings", type=int, default=0, metavar="DIMS", help="add an embedding per picture")
    parser.add_argument("--faces", action="store_true", help="add 0-3 faces per picture with 512-d embeddings")
    parser.add_argument("--generation", action="store_true", help="add ComfyUI generation data to every picture")
    args = parser.parse_args()
    build(
        args.path,
        args.pictures,
        args.tags_per_picture,
        args.sets,
        args.characters,
        args.seed,
        embedding_dims=args.embeddings,
        faces=args.faces,
        generation=args.generation,
    )


if __name__ == "__main__":
    main()

"""A persistent index in embedded SQLite: a paragraph seen yesterday is a duplicate today.

The file holds what ``Index`` holds, as plain rows: each unique matching key with its 8-bit
MinHash sketch and LSH band values, every document and paragraph with its removed flag, and the
verified key-level matches. Opening it rebuilds the in-memory LSH table from the stored band
values (nothing is pickled). It also records the settings it was built with, including a hash
of datasketch's permutation parameters, and refuses a run whose settings would produce other
keys, signatures or matches.

Each batch is one transaction (``BEGIN IMMEDIATE``): a run killed half way leaves the index as it
was before that batch, and two processes using one index take turns batch by batch, each first
catching up with what the other committed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from dedup import __version__
from dedup.index import Index
from dedup.lsh import Banding
from dedup.settings import Settings
from dedup.signatures import MinHasher
from dedup.verify import KeyMatch

FORMAT = "dedup-index/1"
# Settings that change keys, signatures, band values or verified matches: an index built with
# other values cannot be used.
_BINDING = ("num_perm", "ngram", "seed", "lsh_recall_at", "threshold", "fixes", "key", "shingle_hash",
            "minhash_scheme")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL, sketch BLOB NOT NULL,
                                 bands BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL, end INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS paras (id INTEGER PRIMARY KEY, doc INTEGER NOT NULL, idx INTEGER NOT NULL,
                                  key INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                                  removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS matches (id INTEGER PRIMARY KEY, kept INTEGER NOT NULL, removed INTEGER NOT NULL,
                                    rule TEXT NOT NULL, score REAL NOT NULL);
CREATE TABLE IF NOT EXISTS containers (id INTEGER PRIMARY KEY, whole INTEGER NOT NULL, part INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, at REAL NOT NULL, docs INTEGER NOT NULL,
                                 paragraphs INTEGER NOT NULL, removed INTEGER NOT NULL,
                                 tool TEXT NOT NULL);
"""


class IndexMismatch(Exception):
    """The index was built with settings that this run does not share."""


def binding_settings(settings: Settings, hasher: MinHasher) -> dict[str, Any]:
    """What an index must agree on, plus a fingerprint of datasketch's permutations."""
    d = settings.as_dict()
    out = {k: d[k] for k in _BINDING}
    perms = np.stack([hasher._a, hasher._b])
    out["permutations_sha256"] = hashlib.sha256(perms.tobytes()).hexdigest()[:16]
    return out


class StoredIndex(Index):
    """An ``Index`` backed by a SQLite file; use ``StoredIndex.open``."""

    def __init__(self, banding: Banding, num_perm: int, conn: sqlite3.Connection, path: str) -> None:
        super().__init__(banding, num_perm)
        self._conn = conn
        self.path = path
        self._matches_seen = 0
        self._containers_seen = 0

    @classmethod
    def open(cls, path: str | Path, settings: Settings, hasher: MinHasher, banding: Banding,
             timeout: float = 600.0) -> StoredIndex:
        """Open (or create) the index at ``path`` for a run with ``settings``."""
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        index = cls(banding, settings.num_perm, conn, str(path))
        wanted = binding_settings(settings, hasher)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            stored = dict(conn.execute("SELECT name, value FROM meta").fetchall())
            if not stored:
                rows = [("format", FORMAT), ("settings", json.dumps(wanted, sort_keys=True)),
                        ("created", str(time.time())), ("created_by", f"dedup {__version__}")]
                conn.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            else:
                _check(stored, wanted, str(path))
            index._sync()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            raise
        return index

    def close(self) -> None:
        self._conn.close()

    # -- batches -------------------------------------------------------------------------------

    def overlaps_batches(self) -> bool:
        return False  # each batch is one transaction, from its first key to the last

    def begin_batch(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")  # waits for another process's batch to commit
        try:
            self._sync()
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def commit_batch(self, first_key: int, first_doc: int, first_para: int, signatures: np.ndarray,
                     matches: list[KeyMatch], containers: list[tuple[int, int]]) -> None:
        c = self._conn
        sketches = self.sketches(first_key, len(self.keys))
        bands = self.band_values(signatures) if len(signatures) else np.zeros((0, self.banding.bands), np.uint32)
        c.executemany("INSERT INTO keys VALUES (?, ?, ?, ?)", (
            (first_key + i, self.keys[first_key + i], sketches[i].tobytes(), bands[i].tobytes())
            for i in range(len(self.keys) - first_key)))
        c.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                      ((d, self.doc_ids[d], self.doc_start[d + 1]) for d in range(first_doc, len(self.doc_ids))))
        c.executemany("INSERT INTO paras VALUES (?, ?, ?, ?, ?, ?, ?)", (
            (g, self.para_doc[g], self.para_index[g], self.para_key[g], self.para_start[g], self.para_end[g],
             self.removed[g]) for g in range(first_para, self.paragraphs)))
        c.executemany("INSERT INTO matches (kept, removed, rule, score) VALUES (?, ?, ?, ?)",
                      ((m.kept, m.removed, m.rule, m.score) for m in matches))
        c.executemany("INSERT INTO containers (whole, part) VALUES (?, ?)", containers)
        removed = sum(self.removed[g] for g in range(first_para, self.paragraphs))
        c.execute("INSERT INTO runs (at, docs, paragraphs, removed, tool) VALUES (?, ?, ?, ?, ?)",
                  (time.time(), len(self.doc_ids) - first_doc, self.paragraphs - first_para, removed,
                   f"dedup {__version__}"))
        c.execute("COMMIT")
        self._matches_seen += len(matches)
        self._containers_seen += len(containers)

    def rollback_batch(self) -> None:
        """Undo the batch in the file, and reload the memory state from the file."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        fresh = StoredIndex(self.banding, self.num_perm, self._conn, self.path)
        self._conn.execute("BEGIN")
        try:
            fresh._sync()
        finally:
            self._conn.execute("COMMIT")
        self.__dict__.update(fresh.__dict__)

    # -- loading -------------------------------------------------------------------------------

    def _sync(self) -> None:
        """Append what the file holds beyond what this process has in memory."""
        c = self._conn
        first = len(self.keys)
        rows = c.execute("SELECT id, key, sketch, bands FROM keys WHERE id >= ? ORDER BY id", (first,)).fetchall()
        if rows:
            for kid, key, _, _ in rows:
                if self.intern(key) != kid:
                    raise RuntimeError(f"index {self.path} is inconsistent at key {kid}")
            sketches = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.uint8).reshape(len(rows), -1)
            bands = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.uint32).reshape(len(rows), -1)
            self.load_sketches(first, sketches, bands)
            self.settle()
        for doc, end in c.execute("SELECT doc, end FROM docs WHERE id >= ? ORDER BY id", (len(self.doc_ids),)):
            self.doc_ids.append(doc)
            self.doc_start.append(end)
        paras = c.execute("SELECT doc, idx, key, start, end, removed FROM paras WHERE id >= ? ORDER BY id",
                          (self.paragraphs,)).fetchall()
        for doc, idx, key, start, end, removed in paras:
            self.append_paragraph(doc, idx, key, start, end, removed)
        for kept, removed, rule, score in c.execute(
                "SELECT kept, removed, rule, score FROM matches WHERE id > ? ORDER BY id", (self._matches_seen,)):
            self.matches.setdefault(removed, []).append(KeyMatch(kept, removed, rule, score))
            self._matches_seen += 1
        for whole, part in c.execute("SELECT whole, part FROM containers WHERE id > ? ORDER BY id",
                                     (self._containers_seen,)):
            self.containers.setdefault(whole, []).append(part)
            self._containers_seen += 1

    # -- inspection ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return stats(self.path)


def _check(stored: dict[str, str], wanted: dict[str, Any], path: str) -> None:
    if stored.get("format") != FORMAT:
        raise IndexMismatch(f"{path}: not a dedup index of format {FORMAT} (found {stored.get('format')!r})")
    built = json.loads(stored["settings"])
    differ = sorted(k for k in set(built) | set(wanted) if built.get(k) != wanted.get(k))
    if differ:
        details = ", ".join(f"{k}: index {built.get(k)!r}, this run {wanted.get(k)!r}" for k in differ)
        raise IndexMismatch(f"{path} was built with other settings ({details}); "
                            "run with the index's settings or start a new index")


def stats(path: str | Path) -> dict[str, Any]:
    """What an index file holds, without loading it."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
        meta = dict(c.execute("SELECT name, value FROM meta").fetchall())

        def count(sql: str) -> int:
            return int(c.execute(sql).fetchone()[0])

        runs = c.execute("SELECT COUNT(*), MIN(at), MAX(at) FROM runs").fetchone()
        return {
            "path": str(path),
            "format": meta.get("format"),
            "created_by": meta.get("created_by"),
            "settings": json.loads(meta.get("settings", "{}")),
            "documents": count("SELECT COUNT(*) FROM docs"),
            "paragraphs": count("SELECT COUNT(*) FROM paras"),
            "removed_paragraphs": count("SELECT COUNT(*) FROM paras WHERE removed"),
            "unique_keys": count("SELECT COUNT(*) FROM keys"),
            "verified_matches": count("SELECT COUNT(*) FROM matches"),
            "batches": runs[0],
            "first_batch": runs[1],
            "last_batch": runs[2],
            "bytes": Path(path).stat().st_size,
        }


def iter_documents(path: str | Path) -> Iterator[str]:
    """Document ids in the index, in the order they were added."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
        for (doc,) in c.execute("SELECT doc FROM docs ORDER BY id"):
            yield doc

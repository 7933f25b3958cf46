"""On-disk cache of per-image face records (embedding + detection facts), one SQLite file per recogniser.

A record is keyed by the image's sha256 and a *variant* string naming everything else that shapes
the embedding: detector and recogniser files (by hash), backend, detector input size and threshold,
flip averaging and the probe degradation (profile + seed). Any change gives a new key, so a stale
embedding is never reused; a second run with the same settings decodes nothing and runs no model.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NO_FACE = "no_face"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class FaceRecord:
    outcome: str  # "one_face", "several_faces" (largest face used), "no_face", "unreadable"
    face_count: int
    embedding: np.ndarray | None  # (D,) float32 unit vector, None without a face
    quality: dict | None = None  # FaceQuality fields + "score", of the face used
    degrade: dict | None = None  # what degrade_image applied, for degraded probes
    error: str | None = None  # why an image could not be read

    @property
    def has_face(self) -> bool:
        return self.embedding is not None


@dataclass
class EmbeddingCache:
    path: Path
    hits: int = 0
    misses: int = 0
    _connection: sqlite3.Connection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, timeout=60)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS face_records (sha256 TEXT NOT NULL, variant TEXT NOT NULL, outcome TEXT NOT NULL,"
            " face_count INTEGER NOT NULL, embedding BLOB, dims INTEGER, quality TEXT, degrade TEXT, error TEXT,"
            " PRIMARY KEY (sha256, variant))")
        self._connection.commit()

    @classmethod
    def for_model(cls, directory: str | Path, model_id: str) -> EmbeddingCache:
        return cls(Path(directory) / f"{model_id}.sqlite")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get_many(self, variant: str, shas: Iterable[str]) -> dict[str, FaceRecord]:
        wanted = list(dict.fromkeys(shas))
        found: dict[str, FaceRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._connection.execute(
                f"SELECT sha256, outcome, face_count, embedding, dims, quality, degrade, error FROM face_records"
                f" WHERE variant = ? AND sha256 IN ({','.join('?' * len(chunk))})", [variant, *chunk])
            for sha, outcome, count, blob, _dims, quality, degrade, error in rows:
                vector = np.frombuffer(blob, dtype=np.float32).copy() if blob is not None else None
                found[sha] = FaceRecord(outcome, count, vector, json.loads(quality) if quality else None,
                                        json.loads(degrade) if degrade else None, error)
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, variant: str, records: Mapping[str, FaceRecord]) -> None:
        rows = []
        for sha, r in records.items():
            vector = None if r.embedding is None else np.asarray(r.embedding, dtype=np.float32)
            rows.append((sha, variant, r.outcome, r.face_count, None if vector is None else vector.tobytes(),
                         None if vector is None else len(vector), json.dumps(r.quality) if r.quality else None,
                         json.dumps(r.degrade) if r.degrade else None, r.error))
        self._connection.executemany("INSERT OR REPLACE INTO face_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self._connection.commit()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The file-token cache: the token Sendcloud gave for a file's bytes (by SHA-256 and
content type), so a file uploaded once is not uploaded again by a later row or run
while the token is younger than ``token_max_age``; a token the API refused is
forgotten (``forget_token``), and the next row uploads the file again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta

from batch_claims.send.journal.core import JournalCore, guarded
from batch_claims.send.journal.integrity import stored

_QUERY_CHUNK = 500  # files per IN (…) query, well below SQLite's variable limit


class FileTokens(JournalCore):
    """Storing, finding and forgetting file tokens."""

    @guarded
    def cached_token(self, sha256: str, content_type: str, max_age: timedelta) -> str | None:
        row = self.db.execute(
            "SELECT file_token, uploaded_at FROM file_tokens WHERE sha256 = ? AND content_type = ?",
            (sha256, content_type),
        ).fetchone()
        if row is None or not self._fresh(row, max_age):
            return None
        return str(row["file_token"])

    @guarded
    def cached_keys(
        self, keys: Iterable[tuple[str, str]], max_age: timedelta
    ) -> set[tuple[str, str]]:
        """Of many files at once (SHA-256, content type), those with a token younger
        than ``max_age``: what ``cached_token`` answers, in a few indexed queries for a
        whole sheet instead of one per file — or, when the journal holds fewer tokens
        than files are asked of, in one pass over them all."""
        wanted = keys if isinstance(keys, set) else set(keys)
        hashes = list({sha256 for sha256, _ in wanted})  # in any order: the answer is a set
        if not hashes:
            return set()
        columns = "SELECT sha256, content_type, uploaded_at FROM file_tokens"
        (tokens,) = self.db.execute("SELECT count(*) FROM file_tokens").fetchone()
        if tokens <= len(hashes):
            batches: Iterable[Iterable[sqlite3.Row]] = [self.db.execute(columns)]
        else:
            batches = (
                self.db.execute(f"{columns} WHERE sha256 IN ({', '.join('?' * len(chunk))})", chunk)
                for chunk in (
                    hashes[start : start + _QUERY_CHUNK]
                    for start in range(0, len(hashes), _QUERY_CHUNK)
                )
            )
        found: set[tuple[str, str]] = set()
        for rows in batches:
            for row in rows:
                key = (str(row["sha256"]), str(row["content_type"]))
                if key in wanted and self._fresh(row, max_age):
                    found.add(key)
        return found

    def _fresh(self, row: sqlite3.Row, max_age: timedelta) -> bool:
        uploaded = stored(datetime.fromisoformat, str(row["uploaded_at"]).replace("Z", "+00:00"))
        return self._now() - uploaded <= max_age

    @guarded
    def store_token(self, sha256: str, content_type: str, file_token: str) -> None:
        with self.atomic():
            self.db.execute(
                "INSERT INTO file_tokens (sha256, content_type, file_token, uploaded_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (sha256, content_type) DO UPDATE SET "
                "file_token = excluded.file_token, uploaded_at = excluded.uploaded_at",
                (sha256, content_type, file_token, self._stamp()),
            )

    @guarded
    def forget_token(self, file_token: str) -> None:
        with self.atomic():
            self.db.execute("DELETE FROM file_tokens WHERE file_token = ?", (file_token,))

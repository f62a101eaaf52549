"""Uploading a claim's files once: tokens by content hash, in this run and across runs
(the journal's cache), and ahead of time on a few worker threads while the ticket of an
earlier row waits for its window."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from batch_claims.api.client import SupportClient
from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.errors import GaveUp, Rejected, RunAborted
from batch_claims.outcome import Attachment, Claim, ErrorCode
from batch_claims.send.journal import Journal
from batch_claims.validate.attachments import read_regular

FileKey = tuple[str, str]  # (sha256, content type)


class Uploader:
    """File tokens for claims; identical bytes are uploaded once, even concurrently."""

    def __init__(
        self,
        client: SupportClient,
        journal: Journal,
        max_age: timedelta,
        workers: int = 6,
    ) -> None:
        self._client = client
        self._journal = journal
        self._max_age = max_age
        self._lock = threading.RLock()  # done-callbacks may run under it
        self._files: dict[FileKey, Future[str]] = {}
        self._from_cache: set[str] = set()  # tokens taken from earlier runs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upload")
        self._refused: RunAborted | None = None  # after a 401 (etc.) nothing can succeed

    def close(self) -> None:
        """Stop uploading ahead; uploads under way finish (their tokens are cached)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def prefetch(self, claim: Claim) -> None:
        """Start uploading ``claim``'s files in the background."""
        for attachment in claim.attachments.values():
            self._future(attachment)

    def tokens(self, claim: Claim) -> dict[str, str]:
        """The claim's tokens by document column, uploading what is not there yet.

        Raises Rejected or GaveUp (naming the file) when an upload failed.
        """
        self.prefetch(claim)
        tokens = {}
        for column in DOCUMENT_COLUMNS:
            attachment = claim.attachments.get(column.name)
            if attachment is not None:
                future = self._future(attachment)
                tokens[column.name] = (
                    self._fetch(attachment) if future.cancelled() else future.result()
                )
        return tokens

    def is_cached(self, token: str) -> bool:
        return token in self._from_cache

    def forget(self, tokens: Mapping[str, str]) -> None:
        """The API refused these tokens: drop them here and in the journal."""
        refused = set(tokens.values())
        with self._lock:
            for key, future in list(self._files.items()):
                if future.done() and future.exception() is None and future.result() in refused:
                    del self._files[key]
        for token in refused:
            self._journal.forget_token(token)
            self._from_cache.discard(token)

    def _future(self, attachment: Attachment) -> Future[str]:
        key = (attachment.sha256, attachment.content_type)
        with self._lock:
            future = self._files.get(key)
            if future is None:
                try:
                    future = self._pool.submit(self._fetch, attachment)
                except RuntimeError:  # closed: the run is stopping
                    future = Future()
                    future.cancel()
                    return future
                self._files[key] = future
                future.add_done_callback(lambda done: self._drop_failed(key, done))
        return future

    def _drop_failed(self, key: FileKey, future: Future[str]) -> None:
        """A failed upload is not remembered: a later row may try the file again."""
        if future.cancelled() or future.exception() is not None:
            with self._lock:
                if self._files.get(key) is future:
                    del self._files[key]

    def _fetch(self, attachment: Attachment) -> str:
        if self._refused is not None:
            raise self._refused
        key = (attachment.sha256, attachment.content_type)
        cached = self._journal.cached_token(*key, self._max_age)
        if cached is not None:
            self._from_cache.add(cached)
            return cached
        try:
            data = read_regular(attachment.path)
        except OSError as exc:
            raise Rejected(
                f"{attachment.column} file {attachment.filename} cannot be read any more "
                f"({exc.strerror}); check the photos folder and run again",
                error_code=ErrorCode.FILE_UNREADABLE,
            ) from None
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise Rejected(
                f"{attachment.column} file {attachment.filename} changed on disk after it "
                "was checked; run again",
                error_code=ErrorCode.FILE_CHANGED,
            )
        try:
            token = self._client.upload_file(
                attachment.filename, data, attachment.content_type
            ).file_token
        except (Rejected, GaveUp) as exc:
            exc.detail = f"{attachment.column} file {attachment.filename}: {exc.detail}"
            raise
        except RunAborted as exc:  # refused keys, not the API, unreachable, TLS
            self._refused = exc  # the uploads queued behind this one send nothing
            raise
        self._journal.store_token(attachment.sha256, attachment.content_type, token)
        return token

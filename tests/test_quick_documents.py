"""The quick way to a row's documents gives the full check's answers.

``resolve_documents`` takes a file the folder convention found straight from its folder's
listing when the listing showed a regular file in a folder with no link on the way
(``plain_files``, ``read_plain``); anything else goes the full way (``_Finder.check``: the
path resolved, what it is asked, then read). The property test builds photos folders of
every kind of entry and compares both ways answer for answer; the others pin what the
quick way keeps: one read per file, no link followed, no pipe waited on."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.columns import DOCUMENT_COLUMNS, Variant
from batch_claims.forked import joined
from batch_claims.outcome import Attachment, ErrorCode, RowError, attachment
from batch_claims.ticket_types import TYPES, TicketType, required_columns
from batch_claims.validate import attachments as attachments_module
from batch_claims.validate import plain_files
from batch_claims.validate.attachments import MAX_FILE_SIZE, PhotoIndex, resolve_documents
from batch_claims.validate.evidence import document_slots, evidence_checklist
from batch_claims.validate.filetypes import extension
from batch_claims.validate.safe_read import read_document, read_plain
from tests.helpers import PNG

TN = "3SQUICK00001"
COLUMNS = ["exterior_photo", "damage_photo_1", "package_photo"]

# What stands where a document may be found.
KINDS = ["png", "pdf", "empty", "program", "big", "link_in", "link_out", "broken", "dir", "fifo"]


def _make(path: Path, kind: str, photos: Path, outside: Path) -> None:
    if kind == "png":
        path.write_bytes(PNG + path.name.encode())
    elif kind == "pdf":
        path.write_bytes(b"%PDF-1.4\n" + path.name.encode())
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "program":
        path.write_bytes(b"MZ\x90\x00" + bytes(range(40)))
    elif kind == "big":
        with path.open("wb") as fp:
            fp.truncate(MAX_FILE_SIZE + 1)  # sparse: no 6 MB written
    elif kind == "link_in":
        path.symlink_to(photos / "other" / "target.png")
    elif kind == "link_out":
        path.symlink_to(outside / "secret.png")
    elif kind == "broken":
        path.symlink_to(path.parent / "nowhere.png")
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)


ENTRY = st.tuples(
    st.sampled_from(COLUMNS),
    st.sampled_from(["", "upper", "title"]),  # the name's letter case
    st.sampled_from([".png", ".PNG", ".pdf", ".jpg", ".x.png", ""]),
    st.booleans(),  # in the parcel's folder (else flat, <tn>_<name>)
    st.sampled_from(KINDS),
)
FOLDER = st.sampled_from(["none", "folder", "link_in", "link_out", "file"])


@contextmanager
def _photos(
    folder: str, entries: list[tuple[str, str, str, bool, str]]
) -> Iterator[tuple[Path, Path]]:
    top = Path(tempfile.mkdtemp())
    try:
        photos, outside = top / "photos", top / "outside"
        photos.mkdir()
        outside.mkdir()
        (outside / "secret.png").write_bytes(PNG + b"secret")
        (photos / "other").mkdir()
        (photos / "other" / "target.png").write_bytes(PNG + b"target")
        parcel = photos / TN
        if folder == "folder":
            parcel.mkdir()
        elif folder == "link_in":
            (photos / "elsewhere").mkdir()
            parcel.symlink_to(photos / "elsewhere")
        elif folder == "link_out":
            parcel.symlink_to(outside)
        elif folder == "file":
            parcel.write_bytes(PNG)
        for column, case, ext, in_folder, kind in entries:
            name = {"": column, "upper": column.upper(), "title": column.title()}[case] + ext
            if in_folder:
                if folder not in ("folder", "link_in", "link_out"):
                    continue
                path = parcel / name
            else:
                path = photos / f"{TN}_{name}"
            if os.path.lexists(path):
                continue
            _make(path, kind, photos, outside)
        yield photos, outside
    finally:
        shutil.rmtree(top)


def _answers(photos: Path, required: set[str], quick: bool) -> Any:
    index = PhotoIndex(photos)
    with (
        mock.patch.object(
            attachments_module,
            "listed_attachment",
            attachments_module.listed_attachment if quick else (lambda *args: None),
        ),
        mock.patch.object(
            attachments_module,
            "quick_missing",
            attachments_module.quick_missing if quick else (lambda *args: None),
        ),
    ):
        found, errors, notices = resolve_documents(
            photos, TN, {}, required, 7, lambda column: column.upper(), index, slots=COLUMNS
        )
    return found, [(e.code, e.message) for e in errors], notices


@settings(max_examples=150, deadline=None)
@given(
    folder=FOLDER,
    entries=st.lists(ENTRY, max_size=6),
    required=st.sets(st.sampled_from(COLUMNS)),
)
def test_the_quick_way_answers_as_the_full_check(
    folder: str, entries: list[tuple[str, str, str, bool, str]], required: set[str]
) -> None:
    with _photos(folder, entries) as (photos, _):
        answers = _answers(photos, required, quick=True)
        assert answers == _answers(photos, required, quick=False)
        root = photos.resolve()
        for attachment in answers[0].values():  # each file taken is inside, by its real path
            assert Path(os.path.realpath(attachment.path)) == attachment.path
            assert attachment.path.is_relative_to(root)
            assert attachment.path.is_file() and not attachment.path.is_symlink()


def _going(steps: int | None) -> Callable[[], bool]:
    """Go on for ``steps`` more looks (None: to the end)."""
    left = iter(range(steps if steps is not None else 10**9))
    return lambda: next(left, None) is not None


def _opening(photos: Path, index: PhotoIndex) -> tuple[dict[str, Attachment], list[Any], list[str]]:
    """A row's documents (every column required) and the files opened to find them."""
    opened: list[str] = []
    real_open = os.open

    def counting(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    with mock.patch.object(os, "open", counting):
        found, errors, _ = resolve_documents(
            photos, TN, {}, set(COLUMNS), 2, str, index, slots=COLUMNS
        )
    return found, errors, opened


@settings(max_examples=150, deadline=None)
@given(
    folder=FOLDER,
    entries=st.lists(ENTRY, max_size=6),
    required=st.sets(st.sampled_from(COLUMNS)),
    steps=st.none() | st.integers(0, 6),
)
def test_files_read_ahead_answer_as_the_full_check(
    folder: str,
    entries: list[tuple[str, str, str, bool, str]],
    required: set[str],
    steps: int | None,
) -> None:
    """Whatever the folder holds, and wherever the read ahead was cut short, the rows'
    answers from an index read ahead are the full check's."""
    with _photos(folder, entries) as (photos, _):
        index = PhotoIndex(photos)
        plain_files._ahead(index, _going(steps))
        found, errors, notices = resolve_documents(
            photos, TN, {}, required, 7, lambda column: column.upper(), index, slots=COLUMNS
        )
        answers = found, [(e.code, e.message) for e in errors], notices
        assert answers == _answers(photos, required, quick=False)


def test_read_ahead_reads_what_the_convention_may_find_and_no_more(tmp_path: Path) -> None:
    """Parcel folders' and flat files named for a document column are read ahead; other
    files, files in linked folders, links, and folders are not. The rows then open
    none of the files read ahead again."""
    photos = tmp_path / "photos"
    (photos / TN).mkdir(parents=True)
    (photos / TN / "exterior_photo.png").write_bytes(PNG)
    (photos / TN / "Damage_Photo_1.PDF").write_bytes(b"%PDF-1.4\n")
    (photos / TN / "notes.txt").write_text("not a document")
    (photos / TN / "package_photo").write_bytes(PNG)  # no extension: never found
    (photos / f"{TN}_package_photo.jpg").write_bytes(b"MZ\x90\x00program")
    (photos / "elsewhere").mkdir()
    (photos / "elsewhere" / "exterior_photo.png").write_bytes(PNG)
    (photos / "linked").symlink_to(photos / "elsewhere")
    (photos / "other_exterior_photo.png").symlink_to(photos / TN / "exterior_photo.png")
    (photos / "2024").mkdir()
    (photos / "2024" / "interior_photo.png").mkdir()
    index = PhotoIndex(photos)
    plain_files._ahead(index, lambda: True)
    assert sorted(index.ahead) == sorted(
        str(path)
        for path in (
            photos / TN / "exterior_photo.png",
            photos / TN / "Damage_Photo_1.PDF",
            photos / f"{TN}_package_photo.jpg",
            photos / "elsewhere" / "exterior_photo.png",
        )
    )
    found, errors, opened = _opening(photos, index)
    assert sorted(found) == ["damage_photo_1", "exterior_photo"]
    assert [e.code for e in errors] == ["file_type_not_allowed"]
    assert opened == []
    assert list(index.ahead) == [str(photos / "elsewhere" / "exterior_photo.png")]


def test_reading_on_reads_only_what_was_not_read_ahead(tmp_path: Path) -> None:
    """``read_on`` (a child carrying the read ahead on) reads the files not read yet and
    returns those alone, for the process to add to what it read."""
    photos = tmp_path / "photos"
    for n in range(3):
        (photos / f"{TN}{n}").mkdir(parents=True)
        (photos / f"{TN}{n}" / "exterior_photo.png").write_bytes(PNG)
        (photos / f"{TN}{n}" / "package_photo.pdf").write_bytes(b"%PDF-1.4\n")
    index = PhotoIndex(photos)
    plain_files._ahead(index, _going(1))  # a look at the first folder: one file read
    first = dict(index.ahead)
    assert len(first) == 1
    read: list[str] = []
    real_read = plain_files._read

    def counted(path: str, name: str) -> Any:
        read.append(path)
        return real_read(path, name)

    with mock.patch.object(plain_files, "_read", counted):
        more = plain_files.read_on(index, lambda: True)
    assert len(more) == 5 and not set(more) & set(first) and sorted(read) == sorted(more)
    assert {**first, **more} == index.ahead


def test_a_long_listing_is_given_up_when_the_wait_ends(tmp_path: Path) -> None:
    """A folder of many entries met by the read ahead (an archive of earlier weeks) is
    listed only while the wait lasts: given up part way, nothing of it is kept, and the
    rows list it whole when they need it. The photos folder itself is listed first, by
    the waiting process at full speed, since the rows need it anyway."""
    photos = tmp_path / "photos"
    archive = photos / "archive"
    archive.mkdir(parents=True)
    for n in range(600):
        (archive / f"{n:04d}_exterior_photo.png").write_bytes(b"")
    index = PhotoIndex(photos)
    looks: list[bool] = []

    def going() -> bool:
        looks.append(True)
        return len(looks) < 3  # the root entry, then 256 entries into the archive, no

    plain_files._ahead(index, going)
    (entry,) = index.listing(photos).entries
    assert index.ahead == {} and str(archive) not in index._listings
    listed = index.listed(entry)
    assert listed is not None and len(listed.entries) == 600
    index = PhotoIndex(photos)
    plain_files.read_ahead(index, lambda: False)  # the wait already over
    assert str(photos) in index._listings and index.ahead == {}


def test_read_ahead_fills_the_wait_on_an_idle_thread(tmp_path: Path) -> None:
    """``read_ahead`` as the commands call it: on an idle thread while the wait lasts;
    a failure in it leaves nothing read ahead (the rows read their files)."""
    photos = tmp_path / "photos"
    (photos / TN).mkdir(parents=True)
    (photos / TN / "exterior_photo.png").write_bytes(PNG)
    index = PhotoIndex(photos)
    plain_files.read_ahead(index, lambda: True)  # it ends when the work does
    assert list(index.ahead) == [str(photos / TN / "exterior_photo.png")]
    (photos / TN / "damage_photo_1.png").write_bytes(PNG)
    real_read = plain_files._read
    reads: list[str] = []

    def failing(path: str, name: str) -> Any:
        reads.append(name)
        if len(reads) == 2:
            raise RuntimeError("broke")
        return real_read(path, name)

    index = PhotoIndex(photos)
    with mock.patch.object(plain_files, "_read", failing):
        plain_files.read_ahead(index, lambda: True)
    assert len(reads) == 2 and index.ahead == {}


def test_the_quick_way_is_taken_for_plain_files(tmp_path: Path) -> None:
    """Not only the same answers: the quick way is the one the common case takes, with
    the resolved path and the digest of the bytes read."""
    photos = tmp_path / "photos"
    (photos / TN).mkdir(parents=True)
    (photos / TN / "exterior_photo.png").write_bytes(PNG)
    (photos / f"{TN}_damage_photo_1.pdf").write_bytes(b"%PDF-1.4\n")
    with mock.patch.object(attachments_module._Finder, "check") as full:
        found, errors, _ = resolve_documents(
            photos, TN, {}, {"exterior_photo"}, 2, str, PhotoIndex(photos), slots=COLUMNS
        )
    full.assert_not_called()
    assert errors == []
    assert found["exterior_photo"].path == photos.resolve() / TN / "exterior_photo.png"
    assert found["exterior_photo"].sha256 == read_document(photos / TN / "exterior_photo.png")[1]
    assert found["damage_photo_1"].path == photos.resolve() / f"{TN}_damage_photo_1.pdf"
    assert found["damage_photo_1"].content_type == "application/pdf"


def test_each_file_is_read_once_whether_taken_or_refused(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / TN).mkdir(parents=True)
    (photos / TN / "exterior_photo.png").write_bytes(PNG)
    (photos / TN / "damage_photo_1.png").write_bytes(b"MZ\x90\x00program")
    (photos / TN / "package_photo.png").write_bytes(b"")
    found, errors, opened = _opening(photos, PhotoIndex(photos))
    assert list(found) == ["exterior_photo"]
    assert [e.code for e in errors] == ["file_type_not_allowed", "empty_file"]
    assert errors[0].message == (
        f'row 2, "damage_photo_1": {TN}/damage_photo_1.png is not a file type the upload '
        "API accepts: its bytes look like a Windows program (.exe/.dll)"
    )
    assert sorted(opened) == sorted(
        str(photos / TN / name)
        for name in ("exterior_photo.png", "damage_photo_1.png", "package_photo.png")
    )


def test_read_plain_follows_no_link_and_waits_on_no_pipe(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(PNG)
    (tmp_path / "link.png").symlink_to(good)
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "folder").mkdir()

    assert read_plain(str(good)) == read_document(good)
    assert read_plain(str(tmp_path / "link.png")) is None
    assert read_plain(str(tmp_path / "pipe.png")) is None
    assert read_plain(str(tmp_path / "folder")) is None
    assert read_plain(str(tmp_path / "gone.png")) is None


@pytest.mark.parametrize("size", [1, 100, 1024 * 1024 + 3, MAX_FILE_SIZE])
def test_read_document_reads_the_whole_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "file.bin"
    data = bytes(i % 251 for i in range(size))
    path.write_bytes(data)
    assert read_document(path) == (data, hashlib.sha256(data).hexdigest(), size)


@given(st.text(max_size=30))
def test_extension_is_the_path_suffix(name: str) -> None:
    assert extension(name) == PurePosixPath(name.replace("\\", "/")).suffix.lower()


@pytest.mark.parametrize("variant", list(Variant))
@pytest.mark.parametrize("ticket_type", list(TicketType))
def test_document_slots_are_the_ticket_types(variant: Variant, ticket_type: TicketType) -> None:
    slots = document_slots(variant, ticket_type)
    assert slots.slots == TYPES[ticket_type].documents(variant)
    assert slots.required == {
        c.name for c in required_columns(variant, ticket_type) if c.is_document
    }
    assert set(slots.slots) <= {c.name for c in DOCUMENT_COLUMNS}


NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1
).filter(lambda name: name not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(base=st.sampled_from(["photos", "/tmp/x/photos", ".", "/", "a b/Ç"]), name=NAME)
def test_a_child_path_is_the_path_joined(base: str, name: str) -> None:
    made = joined(Path(base), name)
    expected = Path(base) / name
    assert made == expected and str(made) == str(expected) and made.parts == expected.parts
    assert type(made) is type(expected) and made.name == expected.name
    assert made.parent == expected.parent and hash(made) == hash(expected)


def test_the_quick_attachment_sets_every_field_as_the_dataclass_does() -> None:
    values = {
        "column": "damage_photo_1",
        "path": Path("/p/3SQUICK00001/damage_photo_1.png"),
        "filename": "damage_photo_1.png",
        "content_type": "image/png",
        "size": 12,
        "sha256": "ab" * 32,
        "how": "folder convention",
    }
    made = attachment(**values)
    assert [f.name for f in dataclasses.fields(Attachment)] == list(values)
    assert made == Attachment(**values) and vars(made) == values
    assert dataclasses.asdict(made) == values and hash(made) == hash(Attachment(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.size = 1  # type: ignore[misc]


def _checklist_as_written(
    variant: Variant, ticket_type: TicketType, attached: dict[str, Path], troubled: set[str]
) -> str:
    """The evidence cell worked out line by line for the one row (the way it was before
    rows alike shared their lines)."""
    required = document_slots(variant, ticket_type).required
    found = len(required.intersection(attached))
    kind = variant.value if ticket_type is TicketType.DAMAGE else f"{variant.value} {ticket_type}"
    if required:
        head = f"{kind} needs {len(required)} documents: {found} found"
        if found < len(required):
            head += f", {len(required) - found} to add or fix"
    else:
        head = f"{kind} needs no documents; {len(attached)} attached"
    lines = [head]
    for column in DOCUMENT_COLUMNS:
        name = column.name
        if name in attached:
            lines.append(f"✓ {name}: {attached[name].relative_to('/p').as_posix()} (typed path)")
        elif name in troubled:
            lines.append(
                f"✗ {name}: {'missing' if name in required else 'not usable'} (see error_detail)"
            )
        elif name in required:
            lines.append(f"✗ {name}: missing")
    return "\n".join(lines)


DOCUMENT_NAMES = [column.name for column in DOCUMENT_COLUMNS]


@settings(max_examples=300, deadline=None)
@given(
    variant=st.sampled_from(list(Variant)),
    ticket_type=st.sampled_from(list(TicketType)),
    attached=st.dictionaries(
        st.sampled_from(DOCUMENT_NAMES), st.sampled_from(["a.png", "x/b.pdf", "É/c d.jpg"])
    ),
    troubled=st.sets(st.sampled_from(DOCUMENT_NAMES)),
)
def test_the_shared_checklist_is_each_rows_own(
    variant: Variant, ticket_type: TicketType, attached: dict[str, str], troubled: set[str]
) -> None:
    paths = {name: Path("/p") / where for name, where in attached.items()}
    attachments = {
        name: Attachment(name, path, path.name, "image/png", 1, "00", "typed path")
        for name, path in paths.items()
    }
    problems = [RowError(4, name, ErrorCode.MISSING_DOCUMENT, "m") for name in troubled]
    for _ in range(2):  # worked out, then taken from what rows alike share
        cell = evidence_checklist(
            variant, attachments, problems, Path("/p"), Path("/p"), ticket_type
        )
        assert cell == _checklist_as_written(variant, ticket_type, paths, troubled)

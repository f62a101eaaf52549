"""One file name never costs the run: a name longer than the file system allows, a NUL in
a name, and whatever stands in the photos folder where a file or a folder should be (a
named pipe, a socket, a device, a broken link, a link loop, a file on the way to a folder)
make only that row invalid, with a message naming the row and the column — never a
traceback, never a hang — and the results workbook is always written.

Real files made in tmp_path, checked through ``batch-claims validate`` and the Results
sheet; the property test and the race tests call ``resolve_documents`` directly."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.columns import Variant
from batch_claims.outcome import Attachment, RowError
from batch_claims.ticket_types import required_columns
from batch_claims.validate.attachments import PhotoIndex, resolve_documents
from tests.helpers import PNG, photo, results_rows, run, write_sheet

TN = "3SABC0000001"
GOOD_TN = "3SABC0000002"
RATES_DOCUMENTS = [c.name for c in required_columns(Variant.SENDCLOUD_RATES) if c.is_document]
RATES_TEXT = {
    "contents_sales_price": "€ 12.50",
    "contents_description": "Desk lamp",
    "parcel_exterior_description": "Crushed corner",
    "additional_remarks": "None",
}

Setup = Callable[[Path], None]


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for item in made:
        item.close()


def validate(tmp_path: Path, rows: list[list[object]], headers: list[str]) -> dict[str, dict]:
    """Write the sheet with XlsxWriter (which keeps a NUL as ``_x0000_``), run ``validate``
    and return the Results rows by tracking number; the workbook must be written."""
    book = tmp_path / "claims.xlsx"
    workbook = xlsxwriter.Workbook(str(book))
    sheet = workbook.add_worksheet("Claims")
    sheet.write_row(0, 0, headers)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    workbook.close()
    out = tmp_path / "results.xlsx"
    result = run("validate", book, "--photos", tmp_path / "photos", "--out", out)
    assert "Traceback" not in result.output
    assert out.exists(), result.output
    lines = results_rows(out)
    # Exit 0 when every row is valid, 1 when some row is not: never an error exit.
    every_row_valid = all(line["status"] == "valid" for line in lines)
    assert result.exit_code == (0 if every_row_valid else 1), result.output
    return {str(line["tracking_number"]): line for line in lines}


def own_contract_rows(cell: str) -> tuple[list[list[object]], list[str]]:
    """A row with ``cell`` typed as its exterior photo, and a good row after it."""
    headers = ["Tracking number", "Contract type", "Carrier contract", "Exterior photo"]
    return [[TN, "own_contract", 42, cell], [GOOD_TN, "own_contract", 42, "good.png"]], headers


def photos_folder(tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir(exist_ok=True)
    (photos / "good.png").write_bytes(PNG)
    return photos


def fifo(name: str) -> Setup:
    return lambda photos: os.mkfifo(photos / name)


def link(name: str, target: str) -> Setup:
    return lambda photos: os.symlink(photos / target, photos / name)


def loop(name: str) -> Setup:
    def make(photos: Path) -> None:
        os.symlink(photos / f"{name}-other", photos / name)
        os.symlink(photos / name, photos / f"{name}-other")

    return make


def regular(name: str) -> Setup:
    return lambda photos: (photos / name).write_bytes(PNG)


def device(name: str) -> Setup:
    def make(photos: Path) -> None:
        try:  # the same device as /dev/zero, made inside the photos folder
            os.mknod(photos / name, stat.S_IFCHR | 0o600, os.makedev(1, 5))
        except (PermissionError, AttributeError):
            pytest.skip("device files cannot be made here")

    return make


def nothing(photos: Path) -> None:
    pass


TYPED_CASES = [
    pytest.param(
        fifo("pipe.png"),
        "pipe.png",
        "pipe.png is a named pipe (FIFO), not a regular file",
        id="fifo",
    ),
    pytest.param(
        device("zero.png"), "zero.png", "zero.png is a device, not a regular file", id="device"
    ),
    pytest.param(
        link("gone.png", "nowhere.png"),
        "gone.png",
        "gone.png does not exist (a broken link)",
        id="dangling",
    ),
    pytest.param(loop("a.png"), "a.png", "a.png cannot be resolved: a link loop", id="loop"),
    pytest.param(
        loop("sub"),
        "sub/x.png",
        '"sub/x.png" cannot be used: sub is a link loop, not a folder',
        id="loop-folder",
    ),
    pytest.param(
        regular("file.png"),
        "file.png/x.png",
        '"file.png/x.png" cannot be used: file.png is a file, not a folder',
        id="enotdir",
    ),
    pytest.param(
        fifo("pipe"), "pipe/x.png", "pipe is a named pipe (FIFO), not a folder", id="fifo-folder"
    ),
    pytest.param(
        link("gone", "nowhere"),
        "gone/x.png",
        "gone is a broken link, not a folder",
        id="dangling-folder",
    ),
    pytest.param(
        nothing,
        "a" * 300,
        "it is 300 bytes long, longer than the file system allows for a name (255)",
        id="300-chars",
    ),
    pytest.param(
        nothing,
        "é" * 130 + ".png",
        "it is 264 bytes long, longer than the file system allows",
        id="264-bytes-134-chars",
    ),
    pytest.param(
        nothing,
        "a" * 256 + "/x.png",
        f'the name "{"a" * 39}… (256 characters)" in it is 256 bytes long',
        id="long-folder",
    ),
    pytest.param(
        nothing,
        "a\x00b.png",
        "cannot be used: it holds a NUL character, which no file name can",
        id="nul",
    ),
    pytest.param(nothing, "a\x00b/x.png", "holds a NUL character", id="nul-folder"),
]


@pytest.mark.parametrize(("setup", "cell", "message"), TYPED_CASES)
def test_a_hostile_typed_name_makes_only_its_row_invalid(
    tmp_path: Path, setup: Setup, cell: str, message: str
) -> None:
    setup(photos_folder(tmp_path))
    rows, headers = own_contract_rows(cell)

    results = validate(tmp_path, rows, headers)

    assert results[GOOD_TN]["status"] == "valid"
    assert results[TN]["status"] == "invalid"
    detail = results[TN]["error_detail"]
    assert detail.startswith('row 2, "Exterior photo": '), detail
    assert message in detail
    assert "internal_error" not in str(results[TN]["error_code"])


def test_a_socket_is_refused_not_read(tmp_path: Path, sockets: list[socket.socket]) -> None:
    photos = photos_folder(tmp_path)
    server = socket.socket(socket.AF_UNIX)
    sockets.append(server)
    server.bind(str(photos / "sock.png"))
    server.listen()
    rows, headers = own_contract_rows("sock.png")

    results = validate(tmp_path, rows, headers)

    assert results[TN]["error_detail"] == (
        'row 2, "Exterior photo": sock.png is a socket, not a regular file'
    )
    assert results[GOOD_TN]["status"] == "valid"


def rates_rows(photos: Path) -> tuple[list[list[object]], list[str]]:
    """Two sendcloud_rates rows whose documents are all found by the folder convention as
    flat files, except the first row's exterior photo."""
    headers = ["Tracking number", "Contract type", *RATES_TEXT, *RATES_DOCUMENTS]
    for tn in (TN, GOOD_TN):
        for column in RATES_DOCUMENTS:
            if (tn, column) != (TN, "exterior_photo"):
                (photos / f"{tn}_{column}.png").write_bytes(PNG + f"{tn}{column}".encode())
    rows: list[list[object]] = [
        [tn, "sendcloud_rates", *RATES_TEXT.values(), *[""] * len(RATES_DOCUMENTS)]
        for tn in (TN, GOOD_TN)
    ]
    return rows, headers


PARCEL_FOLDER_CASES = [
    pytest.param(regular(TN), "a file", id="file"),
    pytest.param(link(TN, "nowhere"), "a broken link", id="dangling"),
    pytest.param(loop(TN), "a link loop", id="loop"),
    pytest.param(fifo(TN), "a named pipe (FIFO)", id="fifo"),
    pytest.param(device(TN), "a device", id="device"),
]


@pytest.mark.parametrize(("setup", "what"), PARCEL_FOLDER_CASES)
def test_a_parcel_folder_that_is_no_folder_is_named_when_a_file_is_missing(
    tmp_path: Path, setup: Setup, what: str
) -> None:
    photos = photos_folder(tmp_path)
    rows, headers = rates_rows(photos)
    setup(photos)

    results = validate(tmp_path, rows, headers)

    assert results[GOOD_TN]["status"] == "valid", results[GOOD_TN]["error_detail"]
    assert results[TN]["error_detail"] == (
        f'row 2, "exterior_photo": no file given and none found as {TN}/exterior_photo.* '
        f"or {TN}_exterior_photo.* in {photos.as_posix()}/ ({TN} is {what}, not a folder)"
    )


def test_a_fifo_found_by_the_folder_convention_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    photos = photos_folder(tmp_path)
    rows, headers = rates_rows(photos)
    (photos / TN).mkdir()
    os.mkfifo(photos / TN / "exterior_photo.png")

    results = validate(tmp_path, rows, headers)

    assert results[TN]["error_detail"] == (
        f'row 2, "exterior_photo": {TN}/exterior_photo.png is a named pipe (FIFO), '
        "not a regular file"
    )
    assert results[GOOD_TN]["status"] == "valid"


def resolve(
    photos: Path, index: PhotoIndex, typed: dict[str, str] | None = None
) -> tuple[dict[str, Attachment], list[RowError]]:
    found, errors, _ = resolve_documents(
        photos, TN, typed or {}, {"exterior_photo"}, 7, lambda column: column, index
    )
    return found, errors


def test_a_parcel_folder_gone_after_the_index_listed_the_photos_folder(tmp_path: Path) -> None:
    """The index lists folders as rows need them: the parcel's folder listed, then removed,
    is a row error naming it, not a flat file chosen in its stead."""
    photos = photos_folder(tmp_path)
    (photos / TN).mkdir()
    (photos / f"{TN}_exterior_photo.png").write_bytes(PNG)
    index = PhotoIndex(photos)
    index.listing(photos)
    (photos / TN).rmdir()

    found, errors = resolve(photos, index)

    assert found == {}
    assert [(e.code, e.message) for e in errors] == [
        (
            "unreadable_folder",
            f'row 7, "exterior_photo": its file cannot be looked up as '
            f"{TN}/exterior_photo.*: the parcel's folder {TN}/ cannot be read "
            "(No such file or directory)",
        )
    ]


def test_a_typed_folder_gone_after_it_was_listed(tmp_path: Path) -> None:
    photos = photos_folder(tmp_path)
    (photos / "sub").mkdir()
    index = PhotoIndex(photos)
    index.listing(photos)
    (photos / "sub").rmdir()
    (photos / "sub").write_bytes(PNG)  # now a file where the folder was

    _, errors = resolve(photos, index, {"exterior_photo": "sub/x.png"})

    assert [(e.code, e.message) for e in errors] == [
        (
            "unreadable_folder",
            'row 7, "exterior_photo": "sub/x.png" cannot be used: sub is a file, not a folder',
        )
    ]


def test_a_fifo_put_in_place_of_a_file_is_never_waited_on(tmp_path: Path) -> None:
    """The last line of defence: whatever was checked before, the open itself does not
    block and only a regular file is read."""
    from batch_claims.validate.safe_read import read_document

    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    answers: list[object] = []
    reader = threading.Thread(target=lambda: answers.append(read_document(pipe)), daemon=True)

    reader.start()
    reader.join(timeout=10)

    if reader.is_alive():  # unblock the reader before failing
        with open(pipe, "wb"):
            pass
        pytest.fail("reading a named pipe blocked")
    assert answers == ["a named pipe (FIFO)"]


@pytest.fixture(scope="module")
def hostile_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A photos folder holding one of every hostile kind of entry, at the top and in the
    parcel's folder."""
    photos = tmp_path_factory.mktemp("hostile") / "photos"
    photos.mkdir()
    for folder in (photos, photos / TN):
        folder.mkdir(exist_ok=True)
        (folder / "good.png").write_bytes(PNG)
        os.mkfifo(folder / "pipe.png")
        os.symlink(folder / "nowhere", folder / "gone.png")
        os.symlink(folder / "loop-b", folder / "loop-a")
        os.symlink(folder / "loop-a", folder / "loop-b")
        os.symlink(folder, folder / "self")
        (folder / "file").write_bytes(PNG)
    return photos


NAME_PARTS = st.sampled_from(
    ["good.png", "pipe.png", "gone.png", "loop-a", "self", "file", TN, "..", ".", "x" * 256]
)
TYPED = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=300),
    st.lists(
        st.one_of(NAME_PARTS, st.text(st.characters(exclude_categories=()), max_size=20)),
        min_size=1,
        max_size=6,
    ).map("/".join),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=TYPED)
def test_no_typed_text_raises_or_blocks(hostile_photos: Path, typed: str) -> None:
    index = PhotoIndex(hostile_photos)

    found, errors = resolve(hostile_photos, index, {"exterior_photo": typed})

    assert len(found) + len(errors) <= 1
    for error in errors:
        assert error.message.startswith('row 7, "exterior_photo": ')
        assert error.row == 7 and error.column == "exterior_photo"


def test_a_document_swapped_for_a_pipe_after_checking_never_hangs_the_upload(
    api_env: Any, tmp_path: Path
) -> None:
    """Between validation and upload the photo is replaced by a named pipe (nobody ever
    writes to it): the upload refuses it at once instead of waiting forever."""
    import threading
    from datetime import UTC, datetime

    from batch_claims.clock import SystemClock
    from batch_claims.outcome import Status
    from batch_claims.send.journal import Journal
    from batch_claims.send.submitter import Submitter, connect
    from batch_claims.settings import Settings
    from batch_claims.validate.prepare import prepare

    photo(tmp_path, "3SPIPESWAP01/damage_photo_1.png", b"swap")
    sheet = write_sheet(
        tmp_path, [["3SPIPESWAP01", "own_contract"]], ["tracking_number", "contract_type"]
    )
    settings = Settings(base_url=api_env.base_url, public_key="pk-swap", secret_key="sk-swap")
    prepared = prepare(sheet, tmp_path / "photos", settings)
    (claim,) = prepared.claims
    target = tmp_path / "photos" / "3SPIPESWAP01" / "damage_photo_1.png"
    target.unlink()
    os.mkfifo(target)
    book = Journal(tmp_path / "j.sqlite3", lambda: datetime.now(UTC))
    clock = SystemClock()
    result: list[Any] = []
    with connect(settings, clock, book) as client:
        submitter = Submitter(client, book, settings, clock, "run-swap")
        worker = threading.Thread(target=lambda: result.append(submitter.run(prepared.items)))
        worker.start()
        worker.join(30)
        hung = worker.is_alive()
        if hung:  # unblock the reader so the test can end
            with open(target, "wb"):
                pass
            worker.join(5)
    book.close()
    assert not hung, "the upload waited on a named pipe"
    (outcome,) = result[0][0]
    assert outcome.status is Status.REJECTED
    assert "cannot be read any more (it is now a named pipe (FIFO))" in (outcome.error_detail or "")

"""The photos folder as a set-up: one given (``--photos`` or ``photos`` in the config
file's ``[defaults]``) that is not a folder that can be listed stops the run before
anything is sent, exit 2, with one message; the default ``photos`` folder beside the sheet
may be missing, and then only the rows that name a document say so.

Real sheets, real files and folders in tmp_path, the CLI through click's runner, and a
real sandbox for ``submit``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from batch_claims.errors import InputError
from batch_claims.settings import Settings
from batch_claims.validate.photo_index import PhotoIndex, check_photos_folder
from batch_claims.validate.prepare import prepare
from tests.helpers import results_rows, run, tickets, write_sheet

TN = "3SPHOTOS0001"


def config_naming(tmp_path: Path, photos: Path) -> Path:
    """A config file whose ``[defaults]`` name ``photos`` as the photos folder."""
    config = tmp_path / "batch-claims.toml"
    config.write_text(f"[defaults]\nphotos = {json.dumps(str(photos))}\n", encoding="utf-8")
    return config


def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "photos.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    return path


def missing(tmp_path: Path) -> Path:
    return tmp_path / "no such folder"


def a_broken_link(tmp_path: Path) -> Path:
    path = tmp_path / "photos-link"
    path.symlink_to(tmp_path / "gone")
    return path


def a_name_under_a_file(tmp_path: Path) -> Path:
    return a_file(tmp_path) / "photos"


NOT_FOLDERS: list[tuple[Callable[[Path], Path], str]] = [
    (a_file, "is a file, not a folder"),
    (missing, "does not exist"),
    (a_broken_link, "is a broken link"),
    (a_name_under_a_file, "does not exist"),
]
IDS = ["file", "missing", "broken-link", "under-a-file"]


@pytest.mark.parametrize(("make", "problem"), NOT_FOLDERS, ids=IDS)
def test_validate_with_a_configured_photos_path_that_is_no_folder_stops_once(
    week: Path, tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    photos = make(tmp_path)
    config = config_naming(tmp_path, photos)

    result = run("validate", week, "--config", config)

    assert result.exit_code == 2, result.output
    message = f"Error: the photos folder {photos} {problem}: give --photos"
    assert result.output.count(message) == 1, result.output
    assert "row " not in result.output  # not one message per row
    assert not week.with_name("damage_claims_week47.results.xlsx").exists()


def test_submit_with_a_configured_photos_file_sends_nothing(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    photos = a_file(tmp_path)
    config = config_naming(tmp_path, photos)

    result = run("submit", week, "--config", config, "--journal", tmp_path / "j.sqlite3")

    assert result.exit_code == 2, result.output
    assert f"the photos folder {photos} is a file, not a folder" in result.output
    assert tickets(api_env) == []
    sent = requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json()
    assert sent == []
    assert not week.with_name("damage_claims_week47.results.xlsx").exists()


def test_photos_on_the_command_line_that_is_a_file_stops_before_reading(
    week: Path, tmp_path: Path
) -> None:
    result = run("validate", week, "--photos", a_file(tmp_path))

    assert result.exit_code == 2, result.output
    assert "'--photos'" in result.output and "is a file" in result.output
    assert not week.with_name("damage_claims_week47.results.xlsx").exists()


def test_no_photos_folder_beside_the_sheet_is_told_by_the_rows_that_need_one(
    tmp_path: Path,
) -> None:
    sheet = write_sheet(
        tmp_path / "claims",
        [[TN, "own_contract", "damage.png"], ["3SPHOTOS0002", "own_contract", None]],
        ["tracking_number", "contract_type", "damage_photo_1"],
    )

    result = run("validate", sheet)

    assert result.exit_code == 1, result.output
    rows = {row["tracking_number"]: row for row in results_rows(sheet.with_suffix(".results.xlsx"))}
    assert rows[TN]["status"] == "invalid"
    assert '"damage.png" is given but there is no photos folder' in rows[TN]["error_detail"]
    assert rows["3SPHOTOS0002"]["status"] == "valid"


@pytest.mark.parametrize(("make", "problem"), NOT_FOLDERS, ids=IDS)
def test_prepare_refuses_a_photos_path_that_is_no_folder(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    sheet = write_sheet(
        tmp_path / "claims", [[TN, "own_contract"]], ["tracking_number", "contract_type"]
    )
    photos = make(tmp_path)

    with pytest.raises(InputError, match=f"^the photos folder .* {problem}: "):
        prepare(sheet, photos, Settings())


def test_a_photos_folder_through_a_link_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "photos").symlink_to(tmp_path / "real")

    assert PhotoIndex(tmp_path / "photos").listing(tmp_path / "photos").error is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_photos_folder_that_cannot_be_listed_stops_once(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photos.chmod(0o300)  # may be entered, not listed
    try:
        with pytest.raises(InputError, match="cannot be read \\(Permission denied\\)"):
            PhotoIndex(photos)
    finally:
        photos.chmod(0o700)


@pytest.mark.parametrize(("make", "problem"), NOT_FOLDERS, ids=IDS)
def test_the_check_alone_tells_the_same(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    """What a caller checking before the sheet is read (the CLI) is told."""
    photos = make(tmp_path)

    with pytest.raises(InputError, match=f" {problem}: give --photos"):
        check_photos_folder(photos)
    check_photos_folder(tmp_path)  # a folder: nothing to say

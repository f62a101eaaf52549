"""The fixed names of a results workbook: its sheets and our columns. The writer
(``report.workbook``) lays a workbook out with them and ``read.results`` reads an
earlier one back with them for ``retry``, so both sides spell them once, here.
"""

from __future__ import annotations

from batch_claims.columns import CONTRACT_TYPE, TICKET_TYPE, TRACKING_NUMBER

SUMMARY_SHEET = "Summary"
RESULTS_SHEET = "Results"
FAILED_SHEET = "Failed rows"
RESULT_COLUMNS: tuple[str, ...] = (
    "row",
    TRACKING_NUMBER,
    CONTRACT_TYPE,
    TICKET_TYPE,
    "status",
    "ticket_id",
    "http_status",
    "error_code",
    "error_detail",
    "attempts",
    "submitted_at",
)
EVIDENCE_COLUMN = "evidence"  # after the input's own columns
ERROR_HEADER = "error"
# After ``error`` in Failed rows: the row's number in the original sheet, so that a
# retry numbers its messages and its workbook as the original sheet does.
SOURCE_ROW_HEADER = "row"

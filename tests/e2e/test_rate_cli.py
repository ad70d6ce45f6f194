"""`tariff rate` and `tariff shadow` as an operator runs them: a generated catalog and generated
usage, rated from CSV and Parquet into rated files equal to the engine in process, bad rows
rejected in place, a shadow rating against a changed copy, one-line errors, and memory that
does not grow with the file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from rules.rating import RatedRecord, RatingSession
from rules.sale_catalog import SaleCatalog
from rules.usage_rows import record_from_row
from tariff import exits, rate_files
from tariff.cli import main
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import USAGE_HEADER, UsageSpec, iter_rows, write_usage
from tariff.rate_files import RESULT_COLUMNS, file_format, rated_path
from tariff.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INFO = CatalogVersionInfo(
    1, datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC), "test", "", 0, 0, 0
)
EVENTS = 3_000
QUIET = ["--no-progress"]


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return generate_catalog(CatalogSpec(offers=40, areas=4, seed=3, combos=1))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rate")


@pytest.fixture(scope="module")
def catalog_dir(content: CatalogContent, workdir: Path) -> Path:
    target = workdir / "catalog"
    bundle.write_directory(content, target)
    return target


@pytest.fixture(scope="module")
def usage_csv(content: CatalogContent, workdir: Path) -> Path:
    target = workdir / "usage.csv"
    with target.open("w", encoding="utf-8", newline="") as out:
        write_usage(content, UsageSpec(events=EVENTS, subscribers=60, seed=5), out)
    return target


@pytest.fixture(scope="module")
def usage_parquet(usage_csv: Path, workdir: Path) -> Path:
    target = workdir / "usage.parquet"
    pq.write_table(read_csv_text(usage_csv), target)
    return target


@pytest.fixture(scope="module")
def input_rows(usage_csv: Path) -> list[dict[str, str]]:
    return list(iter_rows(usage_csv.read_text(encoding="utf-8")))


def rate_in_process(content: CatalogContent, rows: list[dict[str, str]]) -> list[RatedRecord]:
    catalog = SaleCatalog(INFO, content)
    businesses = {b.code: b for b in content.businesses()}
    session = RatingSession(lambda _start: catalog, Settings().zone)
    return [session.rate(record_from_row(row, businesses)) for row in rows]


@pytest.fixture(scope="module")
def expected(content: CatalogContent, input_rows: list[dict[str, str]]) -> list[RatedRecord]:
    return rate_in_process(content, input_rows)


def read_csv_text(path: Path) -> Any:
    """A CSV with every column as text (as `tariff rate` reads it)."""
    with pa.input_stream(str(path)) as stream:  # .gz decompressed by its name
        names = stream.read(4096).decode().split("\n", 1)[0].replace('"', "").split(",")
    types = dict.fromkeys(names, pa.string())
    convert = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pa_csv.read_csv(path, convert_options=convert)


def output_rows(path: Path) -> list[dict[str, Any]]:
    table = pq.read_table(path) if file_format(path) == "parquet" else read_csv_text(path)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--json", *QUIET]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def one_line_error(
    argv: list[str], capsys: pytest.CaptureFixture[str], status: int = exits.USAGE
) -> str:
    assert main([*argv, *QUIET]) == status
    captured = capsys.readouterr()
    assert captured.err.startswith("tariff: error: ")
    assert captured.err.count("\n") == 1
    return captured.err


def assert_rows_match(rows: list[dict[str, Any]], results: list[RatedRecord]) -> None:
    assert len(rows) == len(results)
    for row, result in zip(rows, results, strict=True):
        rated = result.rated
        assert row["event_id"] == result.record.event_id
        assert (row["status"], row["rejection"], row["message"]) == (
            rated.status,
            rated.reason,
            rated.message,
        )
        assert Decimal(row["charge"]) == rated.charge
        assert row["charge"] == format(rated.charge, "f")  # exact text, the plan's scale
        assert (row["currency"], row["zone"], row["band"], row["rate"]) == (
            rated.currency,
            rated.zone,
            rated.band,
            rated.rate,
        )
        assert int(row["billed_units"]) == rated.billed
        assert int(row["allowance_units"]) == sum(rated.allowance_used.values())
        assert (int(row["catalog_version"]), row["period"]) == (result.version, result.period)


def sums(rows: list[dict[str, Any]], column: str) -> dict[tuple[str, str], Decimal]:
    found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["status"] == "rated":
            found[(row[column] if column else "", row["currency"])] += Decimal(row["charge"])
    return dict(found)


def report_sums(entries: list[dict[str, Any]], column: str) -> dict[tuple[str, str], Decimal]:
    return {(e[column] if column else "", e["currency"]): Decimal(e["total"]) for e in entries}


# -- rate -----------------------------------------------------------------------------------


def test_rate_csv_equals_the_engine_in_process(
    catalog_dir: Path,
    usage_csv: Path,
    input_rows: list[dict[str, str]],
    expected: list[RatedRecord],
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = run_json(["rate", str(usage_csv), "--bundle", str(catalog_dir)], capsys)
    out = usage_csv.with_name("usage.rated.csv")
    assert report["out"] == str(out)
    rows = output_rows(out)
    assert [{k: r[k] for k in USAGE_HEADER} for r in rows] == input_rows  # columns kept
    assert list(rows[0]) == [*USAGE_HEADER, *RESULT_COLUMNS]
    assert_rows_match(rows, expected)
    rated = sum(1 for r in expected if r.rated.status == "rated")
    assert (report["events"], report["rated"]) == (EVENTS, rated)
    reasons = Counter(r.rated.reason for r in expected if r.rated.status != "rated")
    assert report["rejected"] == dict(reasons)
    assert report["versions"] == {"1": EVENTS}
    assert report_sums(report["charge"], "") == sums(rows, "")
    assert report_sums(report["by_product"], "offer") == sums(rows, "offer_code")
    assert report_sums(report["by_zone"], "zone") == sums(rows, "zone")
    assert sum(e["events"] for e in report["by_product"]) == rated


def test_rate_parquet_writes_parquet_with_exact_charges(
    catalog_dir: Path,
    usage_parquet: Path,
    workdir: Path,
    expected: list[RatedRecord],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = workdir / "rated-copy.parquet"
    argv = ["rate", str(usage_parquet), "--bundle", str(catalog_dir), "--out", str(out)]
    report = run_json(argv, capsys)
    schema = pq.read_schema(out)
    assert schema.field("charge").type == pa.string()
    assert schema.field("billed_units").type == pa.int64()
    rows = output_rows(out)
    assert_rows_match(rows, expected)
    assert report_sums(report["charge"], "") == sums(rows, "")


def test_typed_parquet_columns_are_read_as_text(
    catalog_dir: Path, usage_csv: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Numbers, booleans and timestamps in a Parquet file rate like their CSV text."""
    typed = pa_csv.read_csv(
        usage_csv,
        convert_options=pa_csv.ConvertOptions(
            column_types={"destination": pa.string(), "origin_area_code": pa.string()}
        ),
    )
    assert typed.schema.field("roaming").type == pa.bool_()
    assert pa.types.is_timestamp(typed.schema.field("start_time").type)
    path = workdir / "typed.parquet"
    pq.write_table(typed, path)
    text = run_json(["rate", str(usage_csv), "--bundle", str(catalog_dir)], capsys)
    binary = run_json(["rate", str(path), "--bundle", str(catalog_dir)], capsys)
    assert binary["charge"] == text["charge"]
    assert binary["rejected"] == text["rejected"]


def test_typed_columns_rate_by_their_meaning(
    catalog_dir: Path, usage_csv: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Durations as Arrow durations, starts as zoned timestamps (another zone than the
    file's text), roaming as booleans: the same charges as the CSV's text."""
    text = read_csv_text(usage_csv)
    starts = pa.array(
        [datetime.fromisoformat(s) for s in text.column("start_time").to_pylist()],
        pa.timestamp("ms", tz="Europe/London"),
    )
    durations = pa.array(
        [int(v or 0) for v in text.column("duration_ms").to_pylist()], pa.int64()
    ).cast(pa.duration("ms"))
    roaming = pa.array([v == "true" for v in text.column("roaming").to_pylist()], pa.bool_())
    volume = pa.array([int(v or 0) for v in text.column("volume_bytes").to_pylist()], pa.int32())
    typed = (
        text.set_column(text.schema.get_field_index("start_time"), "start_time", starts)
        .set_column(text.schema.get_field_index("duration_ms"), "duration_ms", durations)
        .set_column(text.schema.get_field_index("roaming"), "roaming", roaming)
        .set_column(text.schema.get_field_index("volume_bytes"), "volume_bytes", volume)
    )
    path = workdir / "meaning.parquet"
    pq.write_table(typed, path)
    expected = run_json(["rate", str(usage_csv), "--bundle", str(catalog_dir)], capsys)
    found = run_json(["rate", str(path), "--bundle", str(catalog_dir)], capsys)
    assert found["charge"] == expected["charge"]
    assert found["rejected"] == expected["rejected"]


@pytest.mark.parametrize(
    ("column", "values", "found", "wanted"),
    [
        ("destination", pa.float64(), "double", "string"),
        ("destination", pa.int64(), "int64", "string"),
        ("origin_area_code", pa.int32(), "int32", "string"),
        ("start_time", pa.timestamp("ms"), "timestamp[ms]", "timestamp with a time zone"),
        ("duration_ms", pa.float64(), "double", "integer or duration"),
        ("subscriber_id", pa.int64(), "int64", "string"),
        ("roaming", pa.int8(), "int8", "boolean or string"),
    ],
)
def test_a_column_that_cannot_mean_what_it_must_is_refused(
    catalog_dir: Path,
    usage_csv: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    column: str,
    values: Any,
    found: str,
    wanted: str,
) -> None:
    """A Parquet destination typed double was rated as another number, exit 0: now the file
    is refused before anything is written, with the column, the type found and wanted."""
    table = read_csv_text(usage_csv).slice(0, 50)
    index = table.schema.get_field_index(column)
    original = table.column(column).to_pylist()
    if pa.types.is_timestamp(values):
        typed = pa.array([datetime.fromisoformat(v).replace(tzinfo=None) for v in original], values)
    elif column == "roaming":
        typed = pa.array([int(v == "true") for v in original], values)
    elif column == "subscriber_id":
        typed = pa.array([int(v.lstrip("S")) for v in original], values)
    elif column == "origin_area_code":
        typed = pa.array([len(v) for v in original], values)
    else:
        typed = pa.array([float(v) if v else None for v in original], pa.float64()).cast(
            values, safe=False
        )
    path = workdir / f"typed-{column}.parquet"
    pq.write_table(table.set_column(index, column, typed), path)
    out = workdir / f"typed-{column}.rated.csv"
    error = one_line_error(
        ["rate", str(path), "--bundle", str(catalog_dir), "--out", str(out)], capsys
    )
    assert f"column '{column}' is {found}; wanted " in error
    assert wanted in error.split("wanted", 1)[1]
    assert not out.exists()
    assert not list(workdir.glob(f".typed-{column}*partial"))


def test_gzipped_csv_and_a_rich_summary(
    catalog_dir: Path, usage_csv: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = workdir / "usage.csv.gz"
    with pa.CompressedOutputStream(str(packed), "gzip") as out:
        out.write(usage_csv.read_bytes() + b"X1,S1,[nope],fax,,,,,,,\n")
    assert main(["rate", str(packed), "--bundle", str(catalog_dir)]) == 0  # with the meter
    captured = capsys.readouterr()
    assert "Charge by product" in captured.out
    assert "Rejected by reason" in captured.out
    assert "malformed" in captured.out
    assert f"{EVENTS + 1:,}" in captured.out
    assert "rows/s" in captured.out
    rows = output_rows(workdir / "usage.rated.csv.gz")
    assert len(rows) == EVENTS + 1
    assert rows[-1]["offer_code"] == "[nope]"


def test_a_malformed_row_is_rejected_in_place(
    content: CatalogContent,
    catalog_dir: Path,
    usage_csv: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = usage_csv.read_text(encoding="utf-8").splitlines()[:61]  # header + 60 rows
    lines[10] = lines[10].replace("+08:00", "")  # no offset: row 9
    lines[20] = lines[20].rsplit(",", 1)[0]  # a field short: row 19
    lines[30] = re.sub(r",(local_voice|ld_voice|intl_voice|mobile_data|sms),", ",fax,", lines[30])
    bad = workdir / "bad.csv"
    bad.write_text("\n".join([*lines, "E_LAST,S1"]) + "\n", encoding="utf-8")
    report = run_json(["rate", str(bad), "--bundle", str(catalog_dir)], capsys)
    rows = output_rows(workdir / "bad.rated.csv")
    assert len(rows) == 61
    assert report["rejected"].get("malformed") == 4
    malformed = {i: r["message"] for i, r in enumerate(rows) if r["rejection"] == "malformed"}
    assert sorted(malformed) == [9, 19, 29, 60]
    assert (rows[60]["event_id"], rows[60]["subscriber_id"], rows[60]["roaming"]) == (
        "E_LAST",
        "S1",
        "",
    )
    assert malformed[9].startswith("start_time: ")
    assert malformed[19] == "line 21: 10 fields, the header has 11"
    assert malformed[29] == "business_code: unknown business 'fax'"
    assert rows[19]["event_id"] == lines[20].split(",")[0]  # the broken line's fields, kept
    kept = [line for i, line in enumerate(lines[1:]) if i not in malformed]
    assert len(kept) == 57
    expected = rate_in_process(content, list(iter_rows("\n".join([lines[0], *kept]))))
    others = [row for i, row in enumerate(rows) if i not in malformed]
    assert_rows_match(others, expected)


def test_small_batches_carry_counters_and_keep_broken_lines_in_place(
    content: CatalogContent,
    catalog_dir: Path,
    usage_csv: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Batches of ~40 rows: allowances and caps run on across them exactly as over the whole
    file, and lines too short or too long land where they were, in any batch."""
    monkeypatch.setattr(rate_files, "CSV_BLOCK_BYTES", 4096)
    lines = usage_csv.read_text(encoding="utf-8").splitlines()
    broken = {5: "E_SHORT,S1", 150: lines[151] + ",extra", 151: "x", EVENTS - 1: "E_END"}
    for index, text in broken.items():
        lines[index + 1] = text
    cut = workdir / "cut.csv"
    cut.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_json(["rate", str(cut), "--bundle", str(catalog_dir)], capsys)
    rows = output_rows(workdir / "cut.rated.csv")
    assert len(rows) == EVENTS
    assert report["rejected"].get("malformed") == len(broken)
    assert [i for i, r in enumerate(rows) if r["rejection"] == "malformed"] == sorted(broken)
    kept = [line for i, line in enumerate(lines[1:]) if i not in broken]
    expected = rate_in_process(content, list(iter_rows("\n".join([lines[0], *kept]))))
    assert_rows_match([r for i, r in enumerate(rows) if i not in broken], expected)


def test_one_line_errors(
    catalog_dir: Path, usage_csv: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle_args = ["--bundle", str(catalog_dir)]
    missing = workdir / "nothing.csv"
    assert "nothing.csv: no such file" in one_line_error(
        ["rate", str(missing), *bundle_args], capsys, exits.NOT_FOUND
    )
    lean = workdir / "lean.csv"
    text = usage_csv.read_text(encoding="utf-8").splitlines()[:5]
    lean.write_text("\n".join(line.rsplit(",", 1)[0] for line in text) + "\n", encoding="utf-8")
    error = one_line_error(["rate", str(lean), *bundle_args], capsys)
    assert "missing column(s) roaming" in error
    assert not (workdir / "lean.rated.csv").exists()
    other = workdir / "usage.txt"
    other.write_text("x\n", encoding="utf-8")
    assert "unknown format" in one_line_error(["rate", str(other), *bundle_args], capsys)
    rated = workdir / "rated-copy.parquet"
    if rated.exists():
        assert "rated file" in one_line_error(["rate", str(rated), *bundle_args], capsys)
    pinned = ["rate", str(usage_csv), *bundle_args, "--version", "2"]
    assert "not a bundle" in one_line_error(pinned, capsys)
    lonely = ["shadow", str(usage_csv), "--version", str(catalog_dir)]
    assert "exactly two --version" in one_line_error(lonely, capsys)
    ghost = ["shadow", str(usage_csv), "--version", str(catalog_dir), "--version", "nope"]
    assert "'nope'" in one_line_error(ghost, capsys)


def test_file_names() -> None:
    assert rated_path(Path("a/usage.csv")) == Path("a/usage.rated.csv")
    assert rated_path(Path("usage.csv.gz")) == Path("usage.rated.csv.gz")
    assert rated_path(Path("x.parquet")) == Path("x.rated.parquet")
    assert file_format(Path("X.CSV")) == "csv"


# -- shadow ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def changed(
    content: CatalogContent, catalog_dir: Path, expected: list[RatedRecord], workdir: Path
) -> tuple[Path, str, Decimal]:
    """A copy of the bundle whose busiest long-distance plan charges twice its national rate,
    with the offer and what the change adds (the national charges of that plan, once more)."""
    national = [r for r in expected if r.rated.rate.endswith(".ld_voice.rate[4]")]
    assert national
    plans: dict[str, Decimal] = defaultdict(Decimal)
    for result in national:
        plans[result.plan] += result.rated.charge
    plan = max(plans, key=lambda p: plans[p])
    offer = next(r.record.offer_code for r in national if r.plan == plan)
    copy = workdir / "changed"
    shutil.copytree(catalog_dir, copy)
    source = copy / "products" / f"{offer}.tariff"
    text = source.read_text(encoding="utf-8")
    block = text.index("usage ld_voice {")
    match = re.compile(r"rate national \*: (\d+\.\d\d) per minute").search(text, block)
    assert match is not None
    doubled = f"{Decimal(match[1]) * 2:.2f}"
    text = text[: match.start(1)] + doubled + text[match.end(1) :]
    source.write_text(text, encoding="utf-8")
    return copy, offer, plans[plan]


def check_shadow(report: Mapping[str, Any], offer: str, added: Decimal) -> None:
    assert report["events"] == EVENTS
    assert report["status_differs"] == 0
    assert report["charge_differs"] > 0
    assert report["changes"] == []
    products = {(r["offer"], r["currency"]): r for r in report["by_product"]}
    assert Decimal(products[(offer, "CNY")]["difference"]) == added
    assert report["by_product"][0]["offer"] == offer  # the largest difference first
    assert all(Decimal(r["difference"]) == 0 for k, r in products.items() if k[0] != offer)
    mine = products[(offer, "CNY")]
    assert Decimal(mine["b"]) - Decimal(mine["a"]) == added
    ratio = (Decimal(mine["b"]) - Decimal(mine["a"])) / Decimal(mine["a"]) * 100
    assert mine["percent"] == f"{ratio.quantize(Decimal('0.01')):+f}"
    zones = {r["zone"]: Decimal(r["difference"]) for r in report["by_zone"]}
    assert zones["national"] == added
    assert sum(zones.values()) == added
    assert sum(Decimal(r["difference"]) for r in report["by_band"]) == added
    assert [Decimal(r["difference"]) for r in report["totals"]] == [added]


def test_shadow_between_bundles(
    catalog_dir: Path,
    usage_csv: Path,
    changed: tuple[Path, str, Decimal],
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy, offer, added = changed
    argv = ["shadow", str(usage_csv), "--version", str(catalog_dir), "--version", str(copy)]
    check_shadow(run_json(argv, capsys), offer, added)
    assert main([*argv, *QUIET]) == 0
    out = capsys.readouterr().out
    assert "Revenue by product" in out
    assert offer in out


def test_shadow_and_rate_against_the_store(
    catalog_dir: Path,
    usage_csv: Path,
    changed: tuple[Path, str, Decimal],
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Version 1 against the draft as it would sell once published; rating by the version in
    force at each start gives the bundle's charges."""
    from tariff.cli import main as tariff

    copy, offer, added = changed
    store = ["--database-url", f"sqlite:///{workdir / 'store.sqlite'}"]
    assert tariff(["bundle", "import", str(catalog_dir), *store]) == 0
    assert tariff(["publish", "--effective-from", "2026-01-01T00:00:00Z", *store]) == 0
    assert tariff(["bundle", "import", str(copy), "--replace", *store]) == 0
    capsys.readouterr()
    shadow = ["shadow", str(usage_csv), "--version", "1", "--version", "draft", *store]
    report = run_json(shadow, capsys)
    assert (report["a"], report["b"]) == ("version 1", "draft")
    check_shadow(report, offer, added)

    out = workdir / "from-store.csv"
    rated = run_json(["rate", str(usage_csv), "--out", str(out), *store], capsys)
    by_bundle = run_json(["rate", str(usage_csv), "--bundle", str(catalog_dir)], capsys)
    assert rated["versions"] == {"1": EVENTS}
    assert rated["charge"] == by_bundle["charge"]
    assert rated["catalog"] == "the version in force at each start"
    pinned = run_json(["rate", str(usage_csv), "--out", str(out), "--version", "1", *store], capsys)
    assert pinned["by_product"] == by_bundle["by_product"]
    assert "does not exist" in one_line_error(
        ["rate", str(usage_csv), "--version", "7", *store], capsys, exits.NOT_FOUND
    )


# -- memory ---------------------------------------------------------------------------------


#: Runs a command and prints its peak RSS (KiB) and exit status. A child forked straight from
#: pytest would count pytest's own pages: Linux keeps the high-water mark from before exec.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss_mb(argv: list[str]) -> float:
    """Peak resident memory of one fresh process rating a file (its ru_maxrss, by wait4)."""
    command = [sys.executable, "-m", "tariff.cli", *argv, "--no-progress", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    maxrss, status = done.stdout.split()[-2:]
    assert status == "0", done.stderr
    return int(maxrss) / 1024  # KiB on Linux


@pytest.mark.heavy
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_memory_does_not_grow_with_the_file(
    content: CatalogContent, catalog_dir: Path, workdir: Path
) -> None:
    small, large = workdir / "small.csv", workdir / "large.csv"
    for path, events in ((small, 20_000), (large, 200_000)):
        with path.open("w", encoding="utf-8", newline="") as out:
            write_usage(content, UsageSpec(events=events, subscribers=300, seed=8), out)
    bundle_args = ["--bundle", str(catalog_dir)]
    small_mb = peak_rss_mb(["rate", str(small), *bundle_args])
    large_mb = peak_rss_mb(["rate", str(large), *bundle_args])
    assert large.stat().st_size > 9 * small.stat().st_size
    assert large_mb < 1.3 * small_mb + 20, (small_mb, large_mb)
    with (workdir / "large.rated.csv").open("rb") as rated:
        assert sum(1 for _ in rated) == 200_001

"""A catalog's rule sources are checked together, against that catalog's names."""

from __future__ import annotations

import gc
import threading

from catalog.model import RuleSource
from rules.checking import check_catalog, check_sources, checked_catalog, forget_checked
from rules.collector import collector_paused
from tests.support.catalogs import sample_content

GOOD = RuleSource(
    "products/youth_extra.tariff",
    """\
offer youth_plan {
  eligible all {
    age: customer.age between 15 and 26 else "age" "新势力仅限 15 至 26 岁"
  }
}
""",
)

UNKNOWN_NAMES = RuleSource(
    "products/typo.tariff",
    """\
offer broadband_basic {
  eligible all {
    age: customer.agee between 15 and 26
    where: area within GX
  }
}
""",
)

BROKEN_SYNTAX = RuleSource("products/broken.tariff", "offer youth_plan {\n  eligible all {\n")


def test_a_good_source_checks_clean() -> None:
    result = check_sources([GOOD], sample_content())
    assert result.ok
    assert [m.path for m in result.modules] == ["products/youth_extra.tariff"]


def test_every_problem_of_every_file_is_reported_in_order() -> None:
    result = check_sources([UNKNOWN_NAMES, BROKEN_SYNTAX, GOOD], sample_content())
    assert not result.ok
    found = [(d.path, d.line, d.code) for d in result.diagnostics if d.severity == "error"]
    assert found == sorted(found)
    paths = {path for path, _, _ in found}
    assert paths == {"products/typo.tariff", "products/broken.tariff"}
    typo = [d for d in result.diagnostics if d.path == "products/typo.tariff"]
    assert any(d.line == 3 and "customer.age" in d.hint for d in typo)
    assert any(d.line == 4 and d.code == "unknown-area" for d in typo)


def test_extra_sources_replace_the_catalogs_own_by_path() -> None:
    content = sample_content()
    own = [s for _, s in content.all_rule_sources()]
    replaced = RuleSource(own[0].path, "# emptied\n")
    result = check_catalog(content, [replaced])
    assert replaced.path in {m.path for m in result.modules}
    assert all(d.path != replaced.path for d in result.diagnostics)


def test_the_starter_bundle_is_the_sample_catalog_and_its_rules_check() -> None:
    from pathlib import Path

    from catalog.bundle import read_path

    starter = Path(__file__).resolve().parents[3] / "examples" / "starter"
    assert read_path(starter) == sample_content()
    result = check_catalog(sample_content())
    assert result.ok, [d for d in result.diagnostics if d.severity == "error"]


def test_checked_catalog_checks_the_same_content_object_once() -> None:
    """A publish checks the version and then installs the same object: one check."""
    content = sample_content()
    forget_checked()
    first = checked_catalog(content)
    assert checked_catalog(content) is first
    assert first == check_catalog(content)
    other = checked_catalog(sample_content())  # an equal but distinct object: checked again
    assert other is not first
    assert other == first
    forget_checked()


def test_the_collector_is_paused_while_installing_and_resumes_after() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other_install() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    with collector_paused():
        assert not gc.isenabled()
        thread = threading.Thread(target=other_install)
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other install is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()

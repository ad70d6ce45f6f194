"""The console's routes through HTTP: roles deny by default, and bad input (a huge file,
invalid UTF-8, a stale revision, an unknown offer in a cart) is refused with a clear
message and changes nothing in the store."""

from __future__ import annotations

import pytest

from catalog import codec
from catalog.versions import DRAFT
from tariff.security.roles import Role
from tests.e2e.console.conftest import Store

PATH = "products/mobile_39.tariff"


def draft_hash(store: Store) -> str:
    return codec.content_hash(store.app.catalog.content(DRAFT))


def test_without_a_token_pages_send_to_sign_in_and_the_api_refuses(store: Store) -> None:
    client = store.client()
    assert client.get("/").headers["location"].startswith("/login")
    answer = client.post("/api/save", json={"path": PATH, "text": "", "revision": "1"})
    assert answer.status_code == 401
    bad = client.post("/login", data={"token": "not-a-token"})
    assert bad.status_code == 401
    assert "Access token" in bad.text


def test_a_reader_reads_but_may_not_check_save_or_submit(store: Store) -> None:
    before = draft_hash(store)
    reader = store.client("order-gw", Role.READER)
    assert reader.get("/offer/product/mobile_39").status_code == 200
    saved = reader.post("/api/save", json={"path": PATH, "text": "", "revision": "1"})
    assert saved.status_code == 403
    assert "needs the role 'author'" in saved.json()["error"]
    refused = reader.post("/review", data={"action": "submit"})
    assert "may not submit: it needs the role &#39;author&#39;" in refused.text
    assert draft_hash(store) == before


def test_author_submits_and_only_another_approver_approves_then_publishes(store: Store) -> None:
    author = store.client("alice", Role.AUTHOR)
    text = store.app.catalog.content(DRAFT)
    source = next(s for _, s in text.all_rule_sources() if s.path == PATH)
    changed = source.text.replace("rate * *: 0.10 per message", "rate * *: 0.12 per message")
    saved = author.post("/api/save", json={"path": PATH, "text": changed, "revision": "1"})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"revision": "2", "diagnostics": []}
    moved = author.post("/offer/product/mobile_39", data={"to": "IN_TEST", "revision": "2"})
    assert "mobile_39 is now IN_TEST" in moved.text
    assert "submitted by alice" in author.post("/review", data={"action": "submit"}).text
    denied = author.post("/review", data={"action": "approve"})
    assert "it needs the role &#39;approver&#39;" in denied.text
    both = store.client("alice", Role.AUTHOR, Role.APPROVER)
    four_eyes = both.post("/review", data={"action": "approve"})
    assert "four eyes" in four_eyes.text
    approver = store.client("bob", Role.APPROVER)
    assert "approved by bob" in approver.post("/review", data={"action": "approve"}).text
    published = approver.post("/review", data={"action": "publish", "description": "sms 0.12"})
    assert "published version 2" in published.text, published.text[published.text.find("<main>") :]
    assert [v.number for v in store.app.catalog.list_versions()] == [1, 2]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"x" * (1 << 20 + 1), 413, "too large"),
        (b"offer a {}\n# \xe4\xb8\xad\xff\n", 400, "file.tariff:2:4: byte 0xff is not UTF-8"),
    ],
    ids=["huge", "invalid-utf8"],
)
def test_a_bad_file_is_refused_naming_the_problem(
    store: Store, body: bytes, status: int, message: str
) -> None:
    before = draft_hash(store)
    author = store.client("alice", Role.AUTHOR)
    answer = author.post("/api/upload?name=file.tariff", content=body)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    huge = author.post("/api/save", json={"path": PATH, "text": "x" * (1 << 21), "revision": "1"})
    assert huge.status_code == 413
    assert "at most 1,048,576" in huge.json()["error"]
    assert draft_hash(store) == before


def test_a_stale_save_is_refused_and_keeps_the_other_edit(store: Store) -> None:
    alice, bob = store.client("alice", Role.AUTHOR), store.client("bob", Role.AUTHOR)
    opened = alice.get("/api/file", params={"path": PATH}).json()
    assert opened["revision"] == "1"
    first = bob.post("/api/save", json={"path": PATH, "text": "# bob\n", "revision": "1"})
    assert first.status_code == 200
    stale = alice.post("/api/save", json={"path": PATH, "text": "# alice\n", "revision": "1"})
    assert stale.status_code == 409
    assert "at revision 2, not 1" in stale.json()["error"]
    assert "nothing was saved" in stale.json()["error"]
    assert alice.get("/api/file", params={"path": PATH}).json()["text"] == "# bob\n"


def test_a_stale_save_of_a_catalog_file_is_refused(store: Store) -> None:
    alice = store.client("alice", Role.AUTHOR)
    path = "rules/common.tariff"
    opened = alice.get("/api/file", params={"path": path}).json()
    text = opened["text"] + "\n# edited\n"
    assert (
        alice.post(
            "/api/save", json={"path": path, "text": text, "revision": opened["revision"]}
        ).status_code
        == 200
    )
    stale = alice.post(
        "/api/save", json={"path": path, "text": "# again\n", "revision": opened["revision"]}
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]
    assert alice.get("/api/file", params={"path": path}).json()["text"] == text


def test_a_cart_with_an_unknown_offer_is_refused_by_name(store: Store) -> None:
    before = draft_hash(store)
    author = store.client("alice", Role.AUTHOR)
    form = {"action": "quote", "catalog": "draft", "area": "GD_SZ", "channel": "hall"}
    answer = author.post("/simulate", data={**form, "offers": "mobile_39, no_such_plan"})
    assert "the cart is not eligible" in answer.text
    assert "no_such_plan: unknown_offer" in answer.text
    assert draft_hash(store) == before


def test_check_answers_line_column_message_and_hint(store: Store) -> None:
    author = store.client("alice", Role.AUTHOR)
    text = "# 注释 中文\noffer mobile_39 {\n  eligible first {\n    when 客户.age < 1: deny\n"
    found = author.post("/api/check", json={"path": PATH, "text": text}).json()["diagnostics"]
    assert found, found
    first = found[0]
    assert (first["path"], first["line"]) == (PATH, 4)
    assert first["message"]
    assert f"{PATH}:4:" in first["rendered"]


def test_pages_speak_chinese(store: Store) -> None:
    page = store.client("alice", Role.READER).get("/?lang=zh")
    for word in ("业务", "产品", "组合产品", "已发布版本"):
        assert word in page.text


def test_the_diff_page_shows_the_offer_change_and_the_file_lines(store: Store) -> None:
    """The page shows rules.version_diff, as `tariff diff` and DiffCatalogVersions do."""
    author = store.client("alice", Role.AUTHOR)
    path = "products/mobile_39.tariff"
    opened = author.get("/api/file", params={"path": path}).json()
    old, new = "rate * *: 0.20 per minute", "rate * *: 0.25 per minute"
    assert old in opened["text"]
    saved = author.post(
        "/api/save",
        json={
            "path": path,
            "text": opened["text"].replace(old, new),
            "revision": opened["revision"],
        },
    )
    assert saved.status_code == 200
    html = author.get("/diff", params={"before": "1", "after": "draft"}).text
    offers = html.split('<table id="offers">')[1].split("</table>")[0]
    assert "mobile_39" in offers
    assert "0.20 per minute" in offers
    assert "0.25 per minute" in offers
    assert '<span class="add">+' in html
    assert new in html.split('<pre class="filediff">')[1]
    same = author.get("/diff", params={"before": "1", "after": "1"}).text
    assert '<tr class="offer">' not in same

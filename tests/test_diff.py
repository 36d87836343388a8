from watcher.diff import changes, compare
from watcher.models import Fetched, Item


def page(text: str, key: str = "https://x/docs/gpu") -> Item:
    return Item(key=key, kind="page", title="GPU", url=key, text=text)


def post(n: int, text: str) -> Item:
    return Item(key=f"post:{n}", kind="post", title=text[:20], url=f"https://t.me/c/{n}",
                text=text, meta={"id": n})


GPU_V1 = "\n".join([
    "# GPU Confidential Computing",
    "## Hardware Requirements",
    "### Supported GPUs",
    "**Minimum:**",
    "- NVIDIA H100 or newer",
    "**Tested:**",
    "- NVIDIA H200 NVL",
    "## GPU Passthrough (VFIO)",
    "Currently only one GPU per guest is supported.",
])


def test_added_modified_removed_items():
    previous = {i.key: i for i in [post(1, "a"), post(2, "b"), post(3, "c")]}
    fetched = Fetched([post(1, "a"), post(2, "b edited"), post(4, "d")])
    found = compare(previous, fetched)
    assert [i.key for i in found.added] == ["post:4"]
    assert [(o.text, n.text) for o, n in found.modified] == [("b", "b edited")]
    assert [i.key for i in found.removed] == ["post:3"]


def test_items_outside_the_fetched_window_are_not_removed():
    previous = {i.key: i for i in [post(1, "a"), post(5, "e")]}
    fetched = Fetched([post(5, "e"), post(6, "f")], covers=lambda item: item.meta["id"] >= 5)
    found = compare(previous, fetched)
    assert found.removed == []
    assert [i.key for i in found.added] == ["post:6"]


def test_repeated_key_is_reported_once():
    found = compare({}, Fetched([post(1, "a"), post(1, "a")]))
    assert len(found.added) == 1


def test_page_change_names_its_section():
    new = GPU_V1.replace("- NVIDIA H200 NVL", "- NVIDIA H200 NVL\n- NVIDIA B200")
    found = compare({"https://x/docs/gpu": page(GPU_V1)}, Fetched([page(new)]))
    [change] = changes("site", found)
    assert change.kind == "added"
    assert change.section == "Supported GPUs"
    assert change.after == "- NVIDIA B200"
    assert change.before is None


def test_page_edits_in_two_sections_give_two_changes():
    new = GPU_V1.replace("H100 or newer", "A100 or newer").replace(
        "only one GPU per guest is", "up to 8 GPUs per guest are")
    found = compare({"k": page(GPU_V1, "k")}, Fetched([page(new, "k")]))
    result = changes("site", found)
    assert [(c.section, c.kind) for c in result] == [
        ("Supported GPUs", "modified"), ("GPU Passthrough (VFIO)", "modified")]
    assert result[0].before == "- NVIDIA H100 or newer"
    assert result[0].after == "- NVIDIA A100 or newer"


def test_removed_line_uses_the_old_section():
    new = GPU_V1.replace("Currently only one GPU per guest is supported.\n", "").replace(
        "\nCurrently only one GPU per guest is supported.", "")
    [change] = changes("site", compare({"k": page(GPU_V1, "k")}, Fetched([page(new, "k")])))
    assert change.kind == "removed"
    assert change.section == "GPU Passthrough (VFIO)"


def test_whole_item_change_keeps_before_and_after():
    [change] = changes("tg", compare({"post:2": post(2, "old")}, Fetched([post(2, "new")])))
    assert (change.kind, change.before, change.after) == ("modified", "old", "new")
    assert change.url == "https://t.me/c/2"


def test_nothing_changed_means_no_changes():
    items = [post(1, "a"), page(GPU_V1)]
    found = compare({i.key: i for i in items}, Fetched(items))
    assert found.empty
    assert changes("s", found) == []

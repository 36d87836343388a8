"""The one message catalog: every string a reader sees (digests, bot replies, the archive, the
ROI desk) is looked up here by its English text.

`t = translator(config.language)`; `t("Checking {count} sources…", count=5)` formats with
str.format names; `t.plural(n, "{count} source", "{count} sources")` picks the form (English one
for n == 1; Vietnamese has one form, so both keys translate alike). English passes through
unchanged. Strings kept in tables for later (constants, labels) are marked `N_("...")`, which
returns them as they are; the test in tests/test_i18n.py finds every `t(...)`, `t.plural(...)`
and `N_(...)` literal in the package and the archive templates and checks this catalog has each
of them, and nothing else. Log messages and operators' CLI errors stay English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "vi")


def N_(text: str) -> str:  # noqa: N802 - the gettext name for "translate later"
    """Mark a string for the catalog without translating it now."""
    return text


class Translator:
    """Callable: the configured language's text for an English key, formatted."""

    def __init__(self, language: str = "en"):
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        self.language = language
        self._catalog: Mapping[str, str] = VI if language == "vi" else {}

    def __call__(self, text: str, /, **values: Any) -> str:
        template = self._catalog.get(text, text)
        return template.format(**values) if values else template

    def plural(self, count: int, one: str, many: str, /, **values: Any) -> str:
        """`one` when count is 1, else `many`; {count} is filled in (pass count=... to show it
        otherwise, e.g. with thousands separators)."""
        values.setdefault("count", count)
        return self(one if count == 1 else many, **values)


def translator(language: str = "en") -> Translator:
    return Translator(language)


ENGLISH = Translator("en")

VI: dict[str, str] = {
    # --- digest: titles and sections
    "COCOON watch": "Bản tin COCOON",
    "COCOON watch{number} — {day}": "Bản tin COCOON{number} — {day}",
    "Alerts": "Cảnh báo",
    "What moved": "Thông số đã thay đổi",
    "Baseline recorded (now tracked, not reported as new)":
        "Đã ghi mốc ban đầu (từ nay được theo dõi, không báo là mới)",
    "Could not check": "Không kiểm tra được",
    "Hardware": "Phần cứng",
    "Pricing": "Giá cả",
    "Smart contracts": "Hợp đồng thông minh",
    "Models": "Mô hình",
    "Tooling": "Công cụ",
    "Governance": "Quản trị",
    "Adoption": "Mức độ áp dụng",
    "Other": "Khác",
    # --- digest: what happened to an item
    "New post": "Bài mới",
    "Edited post": "Bài đã sửa",
    "Post deleted": "Bài đã xoá",
    "New commit": "Commit mới",
    "Commit rewritten": "Commit bị viết lại",
    "Commit gone": "Commit đã mất",
    "New release": "Bản phát hành mới",
    "Release edited": "Bản phát hành đã sửa",
    "Release removed": "Bản phát hành đã gỡ",
    "New tag": "Tag mới",
    "Tag moved": "Tag đã dời",
    "Tag removed": "Tag đã gỡ",
    "New page": "Trang mới",
    "Changed": "Đã đổi",
    "Page gone": "Trang đã mất",
    "New download": "Bản tải mới",
    "New build": "Bản build mới",
    "Download gone": "Bản tải đã mất",
    "On-chain price": "Giá on-chain",
    "On-chain parameter": "Tham số on-chain",
    "New contract code": "Mã hợp đồng mới",
    "New contract owner": "Chủ hợp đồng mới",
    "Model allowed": "Mô hình được cho phép",
    "Model no longer allowed": "Mô hình không còn được cho phép",
    "Worker image allowed": "Image worker được cho phép",
    "Worker image no longer allowed": "Image worker không còn được cho phép",
    "Proxy image accepted": "Image proxy được chấp nhận",
    "Proxy image no longer accepted": "Image proxy không còn được chấp nhận",
    "Proxy registered": "Proxy đã đăng ký",
    "Proxy moved": "Proxy đã chuyển",
    "Proxy gone": "Proxy đã mất",
    "Added": "Đã thêm",
    "Removed": "Đã bỏ",
    "page edit": "sửa trang",
    "before: {text}": "trước: {text}",
    "after: {text}": "sau: {text}",
    # --- digest: headline and counts
    "{count} change": "{count} thay đổi",
    "{count} changes": "{count} thay đổi",
    "{count} source": "{count} nguồn",
    "{count} sources": "{count} nguồn",
    "{count} item": "{count} mục",
    "{count} items": "{count} mục",
    "{count} × {name}": "{count} × {name}",
    "Baseline recorded: {sources}, {items}": "Đã ghi mốc ban đầu: {sources}, {items}",
    "Nothing could be checked: {sources} failed": "Không kiểm tra được gì: {sources} bị lỗi",
    "No changes": "Không có thay đổi",
    " (+{count} more)": " (+{count} mục khác)",
    " ({sources} failed)": " ({sources} bị lỗi)",
    # --- digest: facts that moved
    "{label}: {after} (newly stated)": "{label}: {after} (mới được nêu)",
    "{label}: no longer stated (was {before})": "{label}: không còn được nêu (trước đây: {before})",
    "relaxed": "nới lỏng",
    "tightened": "siết chặt",
    "{count} added": "thêm {count}",
    "{count} removed": "bớt {count}",
    # --- digest: alerts and sources that could not be checked
    " (since {date})": " (từ {date})",
    "⚠ {source} has failed {failures} runs in a row{since}; its last good copy is kept":
        "⚠ {source} đã lỗi {failures} lần chạy liên tiếp{since}; bản tốt gần nhất vẫn được giữ",
    "✓ {source} is back after {failures} failed runs":
        "✓ {source} đã hoạt động lại sau {failures} lần chạy lỗi",
    "nothing stored yet": "chưa lưu gì",
    "last good copy {date} kept": "vẫn giữ bản tốt gần nhất ngày {date}",
    "{source}: {held} — held back, last good copy kept; accepted if seen again":
        "{source}: {held} — tạm giữ lại, vẫn dùng bản tốt gần nhất; sẽ nhận nếu lần sau vẫn thấy",
    # --- fact labels (watcher.classify.facts.LABELS)
    "Minimum GPU": "GPU tối thiểu",
    "Supported GPUs": "GPU được hỗ trợ",
    "Tested GPUs": "GPU đã kiểm thử",
    "Consumer GPUs supported": "Hỗ trợ GPU phổ thông",
    "GPUs per guest": "Số GPU mỗi máy khách",
    "CPU TEEs": "TEE của CPU",
    "Minimum host kernel": "Kernel máy chủ tối thiểu",
    "Minimum QEMU": "QEMU tối thiểu",
    "Updated VBIOS required": "Yêu cầu VBIOS cập nhật",
    "Price per token": "Giá mỗi token",
    "Fee / commission": "Phí / hoa hồng",
    "Worker fee per token": "Phí worker mỗi token",
    "Prompt tokens price multiplier": "Hệ số giá token prompt",
    "Cached tokens price multiplier": "Hệ số giá token đã cache",
    "Completion tokens price multiplier": "Hệ số giá token hoàn thành",
    "Reasoning tokens price multiplier": "Hệ số giá token suy luận",
    "Stake": "Tiền stake",
    "Min proxy stake": "Stake tối thiểu của proxy",
    "Min client stake": "Stake tối thiểu của client",
    "Close delay": "Thời gian chờ đóng",
    "Proxy close delay": "Thời gian chờ đóng của proxy",
    "Client close delay": "Thời gian chờ đóng của client",
    "Root contract address": "Địa chỉ root contract",
    "Root contract owner": "Chủ root contract",
    "Contract params version": "Phiên bản tham số hợp đồng",
    "Contract params struct version": "Phiên bản cấu trúc tham số hợp đồng",
    "Contract unique id": "ID duy nhất của hợp đồng",
    "Test contract": "Hợp đồng thử nghiệm",
    "Proxy contract code hash": "Hash mã hợp đồng proxy",
    "Worker contract code hash": "Hash mã hợp đồng worker",
    "Client contract code hash": "Hash mã hợp đồng client",
    "Model hashes": "Hash mô hình",
    "Worker image hashes": "Hash image worker",
    "Accepted proxy image hashes": "Hash image proxy được chấp nhận",
    "Registered proxies": "Proxy đã đăng ký",
    "Worker release": "Bản phát hành worker",
    "Worker download build": "Bản build tải về của worker",
    "Docker client": "Docker client",
    "SDK": "SDK",
    # --- the ROI desk
    "never": "không bao giờ",
    "{count} day": "{count} ngày",
    "{count} days": "{count} ngày",
    "{days} ≈ {count} year": "{days} ≈ {count} năm",
    "{days} ≈ {count} years": "{days} ≈ {count} năm",
    "{usd}/GPU-hr": "{usd}/GPU-giờ",
    "at {rate}/GPU-hr": "với {rate}/GPU-giờ",
    "at {share}": "với {share}",
    " (unreachable)": " (không thể đạt)",
    "{name}  utilization {util} {at_rate}; rate {rate} {at_util}":
        "{name}  mức sử dụng {util} {at_rate}; giá {rate} {at_util}",
    "from price_url": "từ price_url",
    "configured": "theo cấu hình",
    "; price_url failed: {problem}": "; price_url lỗi: {problem}",
    "{price}/TON ({where})": "{price}/TON ({where})",
    "ROI of one GPU, your scenario: capex {capex}, cost {cost}/day":
        "ROI của một GPU, kịch bản của bạn: capex {capex}, chi phí {cost}/ngày",
    "ROI of one GPU: capex {capex}, cost {cost}/day":
        "ROI của một GPU: capex {capex}, chi phí {cost}/ngày",
    "rate in USD/GPU-hr; R, C, P in USD/day; R = rate × 24 × util, P = R − C":
        "giá tính bằng USD/GPU-giờ; R, C, P tính bằng USD/ngày; R = giá × 24 × tải, P = R − C",
    "Break-even": "Hoà vốn",
    "From the chain": "Theo dữ liệu on-chain",
    "scenario": "kịch bản",
    "rate": "giá",
    "util": "tải",
    "R/day": "R/ngày",
    "C/day": "C/ngày",
    "P/day": "P/ngày",
    "payback": "hoàn vốn",
    "The worker fee per token is not read yet: it comes with the first check of the TON root "
    "contract.": "Chưa đọc được phí worker mỗi token: sẽ có sau lần kiểm tra đầu tiên "
                 "root contract trên TON.",
    "worker fee {fee} TON/token × {throughput} tokens/s × 3,600 s":
        "phí worker {fee} TON/token × {throughput} token/s × 3,600 s",
    "× coefficient {coefficient} × {ton}": "× hệ số {coefficient} × {ton}",
    "= {rate}/GPU-hr at 100% utilization; nearest scenario: {name} ({scenario_rate}/GPU-hr)":
        "= {rate}/GPU-giờ khi sử dụng 100%; kịch bản gần nhất: {name} ({scenario_rate}/GPU-giờ)",
    "base payback {payback}": "hoàn vốn kịch bản base {payback}",
    "ROI: worker fee per token not read yet; {head}":
        "ROI: chưa đọc được phí worker mỗi token; {head}",
    "ROI: {shown}/GPU-hr implied at 100% utilization with {ton}, nearest {close}; "
    "{head} ({payback} at the implied rate)":
        "ROI: suy ra {shown}/GPU-giờ khi sử dụng 100% với {ton}, gần nhất {close}; "
        "{head} ({payback} với giá suy ra)",
    '"{word}" is not key=value: write e.g. {example}':
        '"{word}" không có dạng khoá=giá trị: hãy viết ví dụ {example}',
    'unknown key "{key}": use rate, util, capex or cost':
        'không có khoá "{key}": dùng rate, util, capex hoặc cost',
    "{key} is given twice": "{key} được nhập hai lần",
    "{key}={raw} is over 100%: write {key}={value}% or a share such as {key}=0.55":
        "{key}={raw} vượt quá 100%: hãy viết {key}={value}% hoặc một tỉ lệ như {key}=0.55",
    "{key}={raw} is over 100%: a GPU is busy at most all day":
        "{key}={raw} vượt quá 100%: một GPU bận nhiều nhất là cả ngày",
    '{key}="{raw}" is not a number{hint}': '{key}="{raw}" không phải là số{hint}',
    " (use a dot for decimals)": " (dùng dấu chấm cho phần thập phân)",
    "{key}={raw} is negative: give 0 or more": "{key}={raw} là số âm: hãy nhập từ 0 trở lên",
    # --- the bot
    "get the weekly digest here (optionally: categories)":
        "nhận bản tin hằng tuần ở đây (tuỳ chọn: chuyên mục)",
    "stop the weekly digest here": "ngừng nhận bản tin hằng tuần ở đây",
    "check every source now": "kiểm tra mọi nguồn ngay bây giờ",
    "the latest digest": "bản tin mới nhất",
    "the last 10 digests": "10 bản tin gần nhất",
    "one digest from the archive, by its ID": "một bản tin trong kho lưu trữ, theo ID",
    "last run, sources, next run, subscribers":
        "lần chạy gần nhất, các nguồn, lần chạy tới, người đăng ký",
    "the fact sheet": "bảng thông số",
    "payback of a GPU on COCOON (or yours: rate=3.2 util=55%)":
        "thời gian hoàn vốn của một GPU trên COCOON (hoặc của bạn: rate=3.2 util=55%)",
    "what is watched": "những gì đang được theo dõi",
    "what this bot does": "bot này làm gì",
    "I answer commands only: /help lists them.": "Tôi chỉ trả lời lệnh: /help liệt kê các lệnh.",
    "No digest yet: /check runs the first check.":
        "Chưa có bản tin nào: /check để chạy lần kiểm tra đầu tiên.",
    "Sorry, checks and subscriptions here are limited to the team's chats and people.":
        "Xin lỗi, việc kiểm tra và đăng ký ở đây chỉ dành cho các nhóm chat và thành viên "
        "của đội.",
    "Too many commands from this chat: I will answer again in a minute.":
        "Nhóm/chat này gửi quá nhiều lệnh: một phút nữa tôi sẽ trả lời tiếp.",
    "Only an admin of this group can change its subscription.":
        "Chỉ quản trị viên của nhóm này mới thay đổi được việc đăng ký.",
    "The fact sheet is not available yet: it comes with the first check.":
        "Chưa có bảng thông số: bảng sẽ có sau lần kiểm tra đầu tiên.",
    "<b>COCOON watcher</b> tells what changed on the COCOON network: the @cocoon channel, the "
    "GitHub repository, cocoon.org and the worker build.\n\n{commands}\n\nCategories: "
    "{categories}. In a group, only admins change the subscription.\n"
    "Next weekly digest: {next}.":
        "<b>COCOON watcher</b> cho biết những gì đã thay đổi trên mạng COCOON: kênh @cocoon, "
        "kho GitHub, cocoon.org và bản build của worker.\n\n{commands}\n\nChuyên mục: "
        "{categories}. Trong nhóm, chỉ quản trị viên mới thay đổi được việc đăng ký.\n"
        "Bản tin hằng tuần tiếp theo: {next}.",
    "Unknown category: {unknown}. Choose from: {categories}.":
        "Không có chuyên mục: {unknown}. Hãy chọn trong: {categories}.",
    ", only its changes in {categories}": ", chỉ các thay đổi thuộc {categories}",
    "Subscribed: this chat gets the weekly digest{only}. Next: {next}. /unsubscribe stops it.":
        "Đã đăng ký: nhóm chat này sẽ nhận bản tin hằng tuần{only}. Lần tới: {next}. "
        "/unsubscribe để ngừng.",
    "Unsubscribed: no more weekly digests here.":
        "Đã huỷ đăng ký: ở đây sẽ không nhận bản tin hằng tuần nữa.",
    "This chat was not subscribed.": "Nhóm chat này chưa đăng ký.",
    "This chat ran a check a moment ago; try again in {wait}, or see /last.":
        "Nhóm chat này vừa chạy kiểm tra; hãy thử lại sau {wait}, hoặc xem /last.",
    "A check is already running: its digest follows.":
        "Đang có một lần kiểm tra: bản tin của lần đó sẽ gửi ngay sau đây.",
    "Checking {count} sources…": "Đang kiểm tra {count} nguồn…",
    "Latest digests": "Các bản tin gần nhất",
    "Which one? /digest ID, with an ID from /archive.":
        "Bản tin nào? /digest ID, với ID lấy từ /archive.",
    "Status": "Trạng thái",
    "No check has run yet.": "Chưa có lần kiểm tra nào.",
    "Last run: {when}, {outcome}": "Lần chạy gần nhất: {when}, {outcome}",
    "Next weekly digest: {next}": "Bản tin hằng tuần tiếp theo: {next}",
    "Subscribers: {subscribers}, team chats: {team}":
        "Người đăng ký: {subscribers}, nhóm chat của đội: {team}",
    "This chat's id (for telegram.chats): <code>{id}</code>":
        "ID của nhóm chat này (cho telegram.chats): <code>{id}</code>",
    "{error}.\nFor example: /roi {example}": "{error}.\nVí dụ: /roi {example}",
    "Watched": "Đang theo dõi",
    "Something went wrong on my side; it is logged.":
        "Đã có lỗi ở phía bot; lỗi đã được ghi lại.",
    "No digest #{id}: see /archive.": "Không có bản tin #{id}: xem /archive.",
    "{count} minute": "{count} phút",
    "{count} minutes": "{count} phút",
    "ok": "ổn",
    "failed": "lỗi",
    "baseline": "ghi mốc",
    "Fact sheet": "Bảng thông số",
    "(since {date}{where})": "(từ {date}{where})",
    "source": "nguồn",
    "COCOON watch #{id}: nothing in {categories} this time. /digest {id} shows everything.":
        "Bản tin COCOON #{id}: lần này không có gì thuộc {categories}. /digest {id} để xem "
        "toàn bộ.",
    "Mon": "T2",
    "Tue": "T3",
    "Wed": "T4",
    "Thu": "T5",
    "Fri": "T6",
    "Sat": "T7",
    "Sun": "CN",
    # --- the archive site (watcher/archive/templates)
    "Digests": "Bản tin",
    "Fact history": "Lịch sử thông số",
    "Atom feed": "Nguồn cấp Atom",
    "No facts yet.": "Chưa có thông số nào.",
    "Show": "Hiển thị",
    "all": "tất cả",
    "No digest here yet.": "Chưa có bản tin nào ở đây.",
}

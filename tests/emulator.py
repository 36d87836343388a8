"""The Telegram Bot API emulator (tests/telegram_emulator), and acting as users against it.

`start_emulator` installs the npm package from the lock file when node_modules is missing and
starts launcher.js on a free port of 127.0.0.1. `Telegram` is one test's view of it: one bot
token (so tests never see each other's messages), users who send commands and press buttons,
and what the bot sent to each chat.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx

FOLDER = Path(__file__).parent / "telegram_emulator"
REPLY_TIMEOUT = 15.0


@contextmanager
def start_emulator() -> Iterator[str]:
    """Run the emulator for the duration of the block; yields its base URL."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed: the bot's end-to-end tests need it")
    if not (FOLDER / "node_modules" / "telegram-test-api").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER,
                       check=True, timeout=300)
    # stdin stays open while we run: the launcher exits when it closes, even if we are killed.
    process = subprocess.Popen(["node", "launcher.js"], cwd=FOLDER, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{_port(process)}"
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def _port(process: subprocess.Popen) -> int:
    line = process.stdout.readline()  # {"port": N} once it listens
    if not line:
        raise RuntimeError(f"the emulator did not start (exit code {process.wait()})")
    return int(json.loads(line)["port"])


@dataclass(frozen=True)
class Chat:
    id: int
    type: str = "private"


@dataclass(frozen=True)
class User:
    id: int
    first_name: str = "Tester"


_tokens = count(1000)


@dataclass
class Telegram:
    url: str
    token: str = field(default_factory=lambda: f"{next(_tokens)}:TEST-TOKEN")

    async def command(self, text: str, chat: Chat, user: User) -> None:
        command = text.split()[0]
        await self._post("/sendCommand", {
            **self._from(chat, user), "text": text,
            "entities": [{"offset": 0, "length": len(command), "type": "bot_command"}],
        })

    async def say(self, text: str, chat: Chat, user: User) -> None:
        await self._post("/sendMessage", {**self._from(chat, user), "text": text})

    async def press(self, data: str, chat: Chat, user: User, message_id: int) -> None:
        """Press an inline button of the bot's message `message_id`."""
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": {"id": chat.id, "type": chat.type}}
        await self._post("/sendCallback", {"botToken": self.token, "data": data,
                                           "from": self._user(user), "message": message})

    async def replies(self, chat: Chat, count: int = 1) -> list[dict[str, Any]]:
        """The bot's next `count` messages to the chat (at least; more if already there)."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + REPLY_TIMEOUT
        while len(received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"chat {chat.id}: expected {count} replies, got {received}")
            answer = await self._post("/getUpdates", {"token": self.token, "chatId": chat.id})
            received += [_message(update) for update in answer]
            if len(received) < count:
                await asyncio.sleep(0.02)
        return received

    async def reply(self, chat: Chat) -> dict[str, Any]:
        [message] = await self.replies(chat)
        return message

    async def sent(self, chat: Chat) -> list[dict[str, Any]]:
        """Everything the bot sent to the chat so far, read or not."""
        history = await self._post("/getUpdatesHistory", {"token": self.token})
        return [_message(u) for u in history
                if "callbackQuery" not in u and str(u["message"].get("chat_id")) == str(chat.id)]

    async def make_member(self, chat: Chat, user: User, status: str) -> None:
        """What getChatMember answers for this user in this chat ("member" unless set)."""
        await self._post("/_test/member", {"token": self.token, "chat_id": chat.id,
                                           "user_id": user.id, "status": status})

    async def fail_next(self, chat: Chat, status: int, description: str, times: int = 1,
                        **parameters: Any) -> None:
        """Answer the bot's next `times` sendMessage calls to the chat with this error."""
        await self._post("/_test/fault", {"token": self.token, "chat_id": chat.id,
                                          "status": status, "description": description,
                                          "parameters": parameters or None, "times": times})

    def _from(self, chat: Chat, user: User) -> dict[str, Any]:
        return {"botToken": self.token, "date": int(time.time()), "from": self._user(user),
                "chat": {"id": chat.id, "type": chat.type}}

    @staticmethod
    def _user(user: User) -> dict[str, Any]:
        return {"id": user.id, "is_bot": False, "first_name": user.first_name}

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.post(path, json=body)
        response.raise_for_status()
        return response.json()["result"]


def _message(update: dict[str, Any]) -> dict[str, Any]:
    """A bot message as stored by the emulator: what the bot sent, plus its message id."""
    return {**update["message"], "message_id": update["messageId"]}

// The Bot API emulator the bot's end-to-end tests talk to: telegram-test-api, with the answers
// that break python-telegram-bot 22 corrected, the strictness of the real API where our code
// depends on it, and two routes only tests use. What differs and why:
// ../../../shared/notes/telegram-test-api.md.
//
// Prints {"port": N} on its first stdout line once it listens on 127.0.0.1 (a free port), and
// exits when stdin closes, so a test run that dies never leaves it behind. Left as they are:
// the edit methods (they answer null; the bot never edits a message) and purging (never started,
// the emulator keeps every message for the whole test session).
'use strict';

const express = require('express');
const TelegramServer = require('telegram-test-api');

const MAX_TEXT = 4096; // UTF-16 units, which is what a JavaScript string's length counts
const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a',
  'code', 'pre', 'span', 'tg-spoiler', 'blockquote', 'tg-emoji']);
const BOT = { id: 666, is_bot: true, first_name: 'Watcher Test', username: 'TestNameBot' };

// Its own listen() is never called: this app answers first and hands the rest to the emulator's
// Express app, so our corrections take precedence over its routes.
const emulator = new TelegramServer({ host: '127.0.0.1' });
const app = express();
app.use(express.json(), express.urlencoded({ extended: true }));

const chatTypes = new Map(); // chat id -> the type users last wrote in it with
const members = new Map(); // "token:chat:user" -> chat member status
const faults = new Map(); // "token:chat" -> queued error answers for sendMessage

const key = (...parts) => parts.map(String).join(':');
const ok = (res, result) => res.json({ ok: true, result });
const fail = (res, status, description, parameters) => res.status(status)
  .json({ ok: false, error_code: status, description, ...(parameters && { parameters }) });

// --- user side: remember chat types, which the emulator forgets in what it echoes -----------
app.post(['/sendCommand', '/sendMessage'], (req, _res, next) => {
  if (req.body.chat) chatTypes.set(String(req.body.chat.id), req.body.chat.type);
  next();
});

// --- bot side -------------------------------------------------------------------------------
app.all('/bot:token/getMe', (_req, res) => ok(res, { ...BOT, can_join_groups: true }));

app.all('/bot:token/setMyCommands', (_req, res) => ok(res, true));

app.all('/bot:token/getChatMember', (req, res) => {
  const { token } = req.params;
  const status = members.get(key(token, req.body.chat_id, req.body.user_id)) || 'member';
  ok(res, chatMember(status, { id: Number(req.body.user_id), is_bot: false, first_name: 'User' }));
});

app.all('/bot:token/sendMessage', (req, res) => {
  const { token } = req.params;
  const queued = faults.get(key(token, req.body.chat_id)) || [];
  if (queued.length) {
    const fault = queued.shift();
    return fail(res, fault.status, fault.description, fault.parameters);
  }
  const text = String(req.body.text || '');
  if (text.length > MAX_TEXT) return fail(res, 400, 'Bad Request: message is too long');
  const htmlProblem = req.body.parse_mode === 'HTML' ? checkHtml(text) : null;
  if (htmlProblem) return fail(res, 400, `Bad Request: can't parse entities: ${htmlProblem}`);
  const sent = emulator.addBotMessage(req.body, token);
  // The emulator echoes the raw request (string-encoded fields, date in milliseconds, every chat
  // "private"); answer with a clean Message instead.
  return ok(res, {
    message_id: sent.message_id,
    date: Math.floor(sent.date / 1000),
    chat: { id: sent.chat.id, type: chatTypes.get(String(sent.chat.id)) || 'private' },
    from: BOT,
    text: sent.text,
    reply_markup: sent.reply_markup,
  });
});

// Long polling as the real API does it: wait up to `timeout` seconds for an update, unless the
// poller hangs up first (then its updates must stay unread for the next poller).
app.all('/bot:token/getUpdates', async (req, res) => {
  const { token } = req.params;
  let updates = emulator.getUpdates(token);
  const timeout = Number(req.body.timeout || 0);
  if (!updates.length && timeout > 0) {
    const stillThere = await nextUserUpdate(timeout * 1000, res);
    if (!stillThere) return undefined;
    updates = emulator.getUpdates(token);
  }
  return ok(res, updates.map(withChatInstance));
});

// --- routes only tests use ------------------------------------------------------------------
app.post('/_test/member', (req, res) => {
  members.set(key(req.body.token, req.body.chat_id, req.body.user_id), req.body.status);
  ok(res, true);
});

// Queue `times` error answers for the next sendMessage calls to one chat, e.g. a 429 with
// {retry_after: 7}, a 403 "Forbidden: bot was blocked by the user", or a 502.
app.post('/_test/fault', (req, res) => {
  const { token, chat_id: chatId, status, description, parameters, times = 1 } = req.body;
  const queued = faults.get(key(token, chatId)) || [];
  for (let i = 0; i < times; i += 1) queued.push({ status, description, parameters });
  faults.set(key(token, chatId), queued);
  ok(res, true);
});

app.use(emulator.webServer);

function chatMember(status, user) {
  if (status !== 'administrator') return { status, user, is_anonymous: false };
  const rights = ['can_be_edited', 'is_anonymous', 'can_delete_messages', 'can_manage_video_chats',
    'can_restrict_members', 'can_promote_members', 'can_change_info', 'can_invite_users',
    'can_post_stories', 'can_edit_stories', 'can_delete_stories'];
  return { status, user, can_manage_chat: true, ...Object.fromEntries(rights.map((r) => [r, false])) };
}

function withChatInstance(update) {
  if (!update.callback_query) return update;
  const chat = update.callback_query.message && update.callback_query.message.chat;
  return { ...update, callback_query: { ...update.callback_query, chat_instance: String(chat ? chat.id : 0) } };
}

function nextUserUpdate(ms, res) {
  const events = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
  return new Promise((resolve) => {
    let timer;
    const finish = (stillThere) => {
      clearTimeout(timer);
      events.forEach((event) => emulator.off(event, woken));
      res.off('close', hungUp);
      resolve(stillThere);
    };
    const woken = () => finish(true);
    const hungUp = () => finish(false);
    timer = setTimeout(woken, ms);
    events.forEach((event) => emulator.on(event, woken));
    res.on('close', hungUp);
  });
}

// Enough of Telegram's HTML parser to refuse what it would refuse: unknown or unbalanced tags
// and a "<" or "&" that starts nothing.
function checkHtml(text) {
  const open = [];
  const token = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[<&]/g;
  for (const match of text.matchAll(token)) {
    const [whole, closing, name] = match;
    if (whole === '<' || whole === '&') return `unexpected "${whole}" at byte offset ${match.index}`;
    if (!name) continue;
    const tag = name.toLowerCase();
    if (!ALLOWED_TAGS.has(tag)) return `unsupported start tag "${tag}" at byte offset ${match.index}`;
    if (!closing) open.push(tag);
    else if (open.pop() !== tag) return `can't find end tag corresponding to start tag "${tag}"`;
  }
  return open.length ? `can't find end tag corresponding to start tag "${open.pop()}"` : null;
}

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

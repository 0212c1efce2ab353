// The sandbox chat page: pick a person, see their chat with the bot, act as them. Plain JS, no build step.
// The server keeps every chat; this page only shows one and long-polls it (GET /api/chat/<key>?since=<version>).
"use strict";

const TEXT = {
  telegram: "Telegram",
  zalo: "Zalo Bot",
  zalo_oa: "Zalo OA",
  board: "Ban Tuyên giáo",
  notLinked: "chưa kết nối",
  inviteCode: "mã mời",
  pressed: "Đã bấm",
  phoneShared: "📱 Đã gửi số điện thoại",
  followed: "Đã quan tâm Official Account",
  formSend: "📱 Gửi thông tin",
  unsupported: "(tệp Zalo không chuyển cho bot)",
  edited: "đã sửa",
  download: "Tải xuống",
  empty: "Chưa có tin nhắn. Gõ /help để xem các lệnh.",
  emptyUnlinked: "Người này chưa kết nối. Gõ mã mời {code} để bắt đầu.",
  zaloHint: "Zalo không có nút bấm: gõ số thứ tự của lựa chọn.",
  failed: "Không gửi được: ",
  offline: "Mất kết nối tới sandbox, đang thử lại…",
  noCommands: "Chưa có lệnh nào (người này chưa kết nối).",
  groupBoard: "Ban Tuyên giáo",
  sendSample: "Gửi văn bản mẫu dưới dạng DOCX:",
};

const DOT = { telegram: "T", zalo: "Z", zalo_oa: "OA" };
const ZALO = new Set(["zalo", "zalo_oa"]);

const state = {
  people: [],
  current: null,
  version: null,
  chat: null,
  session: null,
  seen: {},
  poll: null,
  samples: [],
  peopleShown: "",
};

const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = {};
  try {
    body = await response.json();
  } catch (_) {
    body = {};
  }
  if (!response.ok) {
    throw new Error(body.error || response.statusText);
  }
  return body;
}

function postJSON(path, data) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data || {}),
  });
}

// -- people and time --------------------------------------------------------------------------------------

async function refreshState() {
  try {
    const data = await api("/api/state");
    if (state.session !== data.session) {
      // Each start of the sandbox is a new world: what was read is remembered per start, and at the very
      // first look everything already there (the people joining) counts as read.
      state.session = data.session;
      const stored = localStorage.getItem("chibo-seen-" + data.session);
      state.seen = stored ? JSON.parse(stored) : Object.fromEntries(data.people.map((p) => [p.key, p.count]));
      saveSeen();
    }
    state.people = data.people;
    state.samples = data.samples;
    $("clock").textContent = data.now_text;
    if (!state.current) {
      const wanted = decodeURIComponent(location.hash.slice(1));
      const start =
        data.people.find((p) => p.key === wanted) || data.people.find((p) => p.key === data.first) || data.people[0];
      if (start) select(start.key);
    }
    // Redraw the list only when something in it changed, so a click never lands on a list being replaced.
    const shown = JSON.stringify([data.people, state.current, state.seen]);
    if (shown !== state.peopleShown) {
      state.peopleShown = shown;
      renderPeople();
    }
    renderHeader();
    hideNotice(TEXT.offline);
  } catch (_) {
    showNotice(TEXT.offline);
  }
}

function saveSeen() {
  if (state.session) localStorage.setItem("chibo-seen-" + state.session, JSON.stringify(state.seen));
}

function person(key) {
  return state.people.find((p) => p.key === key);
}

function groupOf(p) {
  if (p.role === "board") return TEXT.groupBoard;
  const parent = state.people.find((q) => q.role === "secretary" && p.unit_code.startsWith(q.unit_code + "-"));
  return parent ? parent.unit : p.unit;
}

function renderPeople() {
  const list = $("people");
  list.textContent = "";
  let lastGroup = null;
  for (const p of state.people) {
    const group = groupOf(p);
    if (group !== lastGroup) {
      const head = document.createElement("li");
      head.className = "group";
      head.textContent = group;
      list.appendChild(head);
      lastGroup = group;
    }
    const item = document.createElement("li");
    item.className = "person" + (p.key === state.current ? " active" : "");
    item.dataset.key = p.key;
    item.dataset.name = p.name;
    item.dataset.platform = p.platform;
    item.dataset.role = p.role;
    if (p.invite_code) item.dataset.invite = p.invite_code;
    const unread = p.key === state.current ? 0 : Math.max(0, p.count - (state.seen[p.key] || 0));
    const status = p.linked
      ? ""
      : `<span class="pending">${TEXT.notLinked} · ${TEXT.inviteCode} <code>${escapeHtml(p.invite_code || "")}</code></span>`;
    item.innerHTML =
      `<span class="dot ${p.platform}" title="${TEXT[p.platform]}">${DOT[p.platform] || "?"}</span>` +
      `<span class="pname"><b>${escapeHtml(p.name)}</b><small>${escapeHtml(
        p.role === "board" ? p.role_label + " – " + p.unit : p.unit
      )}</small><small class="platform-label">${TEXT[p.platform]}</small>${status}</span>` +
      (unread ? `<span class="badge">${unread}</span>` : "");
    item.addEventListener("click", () => select(p.key));
    list.appendChild(item);
  }
}

function renderHeader() {
  const p = person(state.current);
  if (!p) return;
  const phone = $("phone");
  phone.classList.toggle("telegram", p.platform === "telegram");
  phone.classList.toggle("zalo", ZALO.has(p.platform));
  phone.classList.toggle("oa", p.platform === "zalo_oa");
  $("platform-name").textContent = TEXT[p.platform];
  $("chat-who").textContent = `${p.name} · ${p.role === "board" ? p.role_label : p.unit}`;
  $("sample-button").hidden = p.role !== "board";
  $("dashboard-button").hidden = p.role !== "board" || !p.linked;
  $("menu-button").hidden = p.platform !== "telegram";
}

// The board's dashboard, signed in by a one-time link issued for the person shown. The tab opens at the click
// (a tab opened after the request's answer would be taken for a pop-up), and goes to the link once it is issued.
async function openDashboard() {
  const tab = window.open("", "_blank");
  try {
    const answer = await postJSON(`/api/chat/${encodeURIComponent(state.current)}/dashboard`);
    if (tab) tab.location.href = answer.url;
    else window.location.href = answer.url;
  } catch (error) {
    if (tab) tab.close();
    showNotice(TEXT.failed + error.message, 4000);
  }
}

function select(key) {
  if (state.current === key) return;
  state.current = key;
  state.version = null;
  state.chat = null;
  history.replaceState(null, "", "#" + encodeURIComponent(key));
  closePopups();
  $("messages").textContent = "";
  renderPeople();
  renderHeader();
  restartPoll();
}

async function travel(step) {
  try {
    const data = await postJSON("/api/time", { step });
    $("clock").textContent = data.now_text;
  } catch (error) {
    showNotice(TEXT.failed + error.message, 4000);
  }
}

// -- the chat ---------------------------------------------------------------------------------------------

function restartPoll() {
  if (state.poll) state.poll.abort();
  const controller = new AbortController();
  state.poll = controller;
  pollLoop(state.current, controller.signal);
}

async function pollLoop(key, signal) {
  while (!signal.aborted && key === state.current) {
    const since = state.version === null ? "" : `?since=${state.version}`;
    try {
      const data = await api(`/api/chat/${encodeURIComponent(key)}${since}`, { signal });
      if (key === state.current) applyChat(data);
      hideNotice(TEXT.offline);
    } catch (error) {
      if (signal.aborted) return;
      showNotice(TEXT.offline);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function applyChat(data) {
  if (data.key !== state.current) return;
  if (state.version !== null && data.version < state.version) return; // a late answer to an older request
  const changed = data.version !== state.version;
  state.version = data.version;
  state.chat = data;
  const p = person(data.key);
  if (p) {
    p.count = data.entries.filter((e) => e.side === "bot").length;
    state.seen[data.key] = p.count;
    saveSeen();
  }
  if (changed) renderChat(data);
}

function renderChat(data) {
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80 || !box.childElementCount;
  box.textContent = "";
  const p = person(data.key);
  const shown = data.entries.filter((e) => !e.deleted);
  if (!shown.length) {
    const empty = document.createElement("div");
    empty.className = "system";
    empty.textContent = p && !p.linked ? TEXT.emptyUnlinked.replace("{code}", p.invite_code || "") : TEXT.empty;
    box.appendChild(empty);
  }
  for (const entry of shown) box.appendChild(renderEntry(entry, p));
  renderKeyboard(data.keyboard);
  renderCommands(data.commands);
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

function renderEntry(entry, p) {
  if (entry.side === "me" && (entry.kind === "press" || entry.kind === "follow")) {
    const note = document.createElement("div");
    note.className = `system ${entry.kind}`;
    note.textContent = entry.kind === "follow" ? TEXT.followed : `${TEXT.pressed} «${entry.text}»`;
    return note;
  }
  const row = document.createElement("div");
  row.className = `row ${entry.side}`;
  const bubble = document.createElement("div");
  bubble.className = `msg ${entry.side} kind-${entry.kind}`;
  if (entry.side === "bot") {
    bubble.dataset.id = entry.id;
    bubble.dataset.index = entry.index;
  }
  const file = entry.side === "bot" ? entry.file : entry.url && { name: entry.file_name, url: entry.url };
  if (entry.kind === "photo" && file) {
    const img = document.createElement("img");
    img.src = file.url;
    img.alt = file.name || "";
    img.className = "photo";
    bubble.appendChild(img);
  } else if (file) {
    bubble.appendChild(fileCard(file));
  }
  if (entry.form) bubble.appendChild(infoForm(entry.form));
  let text = entry.text;
  if (entry.side === "me" && entry.kind === "contact") text = `${TEXT.phoneShared}: ${entry.text}`;
  if (entry.side === "me" && entry.kind === "document" && p && p.platform === "zalo") text = TEXT.unsupported;
  if (text) {
    const body = document.createElement("div");
    body.className = "text";
    body.innerHTML = formatText(text, p);
    bubble.appendChild(body);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (entry.edited ? TEXT.edited + " · " : "") + entry.time;
  bubble.appendChild(meta);
  row.appendChild(bubble);
  if (entry.side === "bot" && entry.buttons && entry.buttons.length) {
    row.appendChild(renderButtons(entry));
  }
  return row;
}

function fileCard(file) {
  const card = document.createElement("a");
  card.className = "file";
  card.href = file.url;
  card.target = "_blank";
  card.rel = "noopener";
  card.setAttribute("download", file.name || "");
  const size = file.size ? ` · ${formatSize(file.size)}` : "";
  card.innerHTML = `<span class="icon">📄</span><span class="fname">${escapeHtml(file.name || "")}<small>${TEXT.download}${size}</small></span>`;
  return card;
}

// The OA's request_user_info template: Zalo shows a card; tapping it sends the name and phone the user confirms.
function infoForm(form) {
  const card = document.createElement("div");
  card.className = "info-form";
  card.innerHTML = `<b>${escapeHtml(form.title)}</b><small>${escapeHtml(form.subtitle)}</small>`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "form-submit";
  button.textContent = TEXT.formSend;
  button.addEventListener("click", shareContact);
  card.appendChild(button);
  return card;
}

function renderButtons(entry) {
  const grid = document.createElement("div");
  grid.className = "buttons";
  for (const rowSpec of entry.buttons) {
    const row = document.createElement("div");
    row.className = "button-row";
    for (const spec of rowSpec) {
      let button;
      if (spec.url) {
        button = document.createElement("a");
        button.href = spec.url;
        button.target = "_blank";
        button.rel = "noopener";
      } else {
        button = document.createElement("button");
        button.type = "button";
        button.addEventListener("click", () => press(entry.id, spec.data));
      }
      button.className = "inline-button";
      button.dataset.label = spec.label;
      button.textContent = spec.label;
      row.appendChild(button);
    }
    grid.appendChild(row);
  }
  return grid;
}

function renderKeyboard(keyboard) {
  const box = $("keyboard");
  box.textContent = "";
  box.hidden = !keyboard;
  if (!keyboard) return;
  for (const label of keyboard.labels) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "key";
    button.textContent = label;
    button.addEventListener("click", () => (keyboard.request_contact ? shareContact() : sendText(label)));
    box.appendChild(button);
  }
}

function renderCommands(commands) {
  const box = $("commands");
  box.textContent = "";
  if (!commands.length) {
    const none = document.createElement("div");
    none.className = "popup-note";
    none.textContent = TEXT.noCommands;
    box.appendChild(none);
  }
  for (const c of commands) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.command = c.command;
    button.innerHTML = `<b>/${escapeHtml(c.command)}</b> <span>${escapeHtml(c.description)}</span>`;
    button.addEventListener("click", () => {
      closePopups();
      sendText("/" + c.command);
    });
    box.appendChild(button);
  }
}

function renderSamples() {
  const box = $("samples");
  box.textContent = "";
  const note = document.createElement("div");
  note.className = "popup-note";
  note.textContent = TEXT.sendSample;
  box.appendChild(note);
  for (const s of state.samples) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.sample = s.key;
    button.textContent = "📄 " + s.label;
    button.addEventListener("click", () => {
      closePopups();
      act("sample", { sample: s.key });
    });
    box.appendChild(button);
  }
}

// Text as the apps show it: links open, and on Telegram a /command in a bot message can be tapped.
function formatText(text, p) {
  let html = "";
  let last = 0;
  const links = /(https?:\/\/[^\s<>"']+|\/f\/[^\s<>"']+)|((?:^|(?<=\s))\/[a-z][a-z_]{1,31}\b)/g;
  for (const match of text.matchAll(links)) {
    html += escapeHtml(text.slice(last, match.index));
    if (match[1]) {
      // The bot's download links (Zalo) come through this page's server, so they are shown on its origin.
      const url = match[1].startsWith("/") ? location.origin + match[1] : match[1];
      html += `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(url)}</a>`;
    } else if (p && p.platform === "telegram") {
      html += `<a href="#" class="command" data-command="${escapeHtml(match[2])}">${escapeHtml(match[2])}</a>`;
    } else {
      html += escapeHtml(match[2]);
    }
    last = match.index + match[0].length;
  }
  return html + escapeHtml(text.slice(last));
}

function escapeHtml(value) {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// -- acting -----------------------------------------------------------------------------------------------

async function act(action, data) {
  const key = state.current;
  try {
    const chat = await postJSON(`/api/chat/${encodeURIComponent(key)}/${action}`, data);
    applyChat(chat);
  } catch (error) {
    showNotice(TEXT.failed + error.message, 4000);
  }
}

function sendText(text) {
  if (!text.trim()) return;
  act("text", { text });
}

function press(id, data) {
  act("press", { id, data });
}

function shareContact() {
  act("contact", {});
}

async function sendFile(file, asPhoto) {
  if (!file) return;
  const key = state.current;
  const form = new FormData();
  form.append("file", file, file.name);
  if (asPhoto) form.append("as_photo", "1");
  try {
    const chat = await api(`/api/chat/${encodeURIComponent(key)}/file`, { method: "POST", body: form });
    applyChat(chat);
  } catch (error) {
    showNotice(TEXT.failed + error.message, 4000);
  }
}

// -- small UI pieces --------------------------------------------------------------------------------------

let noticeTimer = null;

function showNotice(text, hideAfter) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(noticeTimer);
  if (hideAfter) noticeTimer = setTimeout(() => (box.hidden = true), hideAfter);
}

function hideNotice(text) {
  const box = $("notice");
  if (box.textContent === text) box.hidden = true;
}

function closePopups() {
  for (const id of ["commands", "samples", "attach-menu"]) $(id).hidden = true;
}

function toggle(id) {
  const box = $(id);
  const open = box.hidden;
  closePopups();
  box.hidden = !open;
  // Just above the composer, whose height grows when a board member's buttons push the text field to a second line.
  box.style.bottom = `${$("composer").offsetHeight + 10}px`;
}

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    input.value = "";
    closePopups();
    sendText(text);
  });
  $("menu-button").addEventListener("click", () => toggle("commands"));
  $("sample-button").addEventListener("click", () => {
    renderSamples();
    toggle("samples");
  });
  $("dashboard-button").addEventListener("click", openDashboard);
  $("attach-button").addEventListener("click", () => toggle("attach-menu"));
  $("attach-file").addEventListener("click", () => {
    closePopups();
    $("file-input").click();
  });
  $("attach-photo").addEventListener("click", () => {
    closePopups();
    $("photo-input").click();
  });
  $("file-input").addEventListener("change", (event) => {
    sendFile(event.target.files[0], false);
    event.target.value = "";
  });
  $("photo-input").addEventListener("change", (event) => {
    sendFile(event.target.files[0], true);
    event.target.value = "";
  });
  $("messages").addEventListener("click", (event) => {
    const link = event.target.closest("a.command");
    if (link) {
      event.preventDefault();
      sendText(link.dataset.command);
    }
  });
  for (const button of document.querySelectorAll("#travel button")) {
    button.addEventListener("click", () => travel(button.dataset.step));
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePopups();
  });
}

wire();
refreshState();
setInterval(refreshState, 2000);

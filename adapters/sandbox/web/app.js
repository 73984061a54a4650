// advocate sandbox page: plain JavaScript, no dependencies.
// Every text from the server is inserted with textContent, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const ui = {
    persona: $('persona'), channels: $('channels'), title: $('channel-title'),
    topic: $('channel-topic'), messages: $('messages'), composer: $('composer'),
    input: $('input'), hint: $('hint'), status: $('status'), dashboard: $('dashboard'),
    replying: $('replying'), replyingText: $('replying-text'), replyingCancel: $('replying-cancel'),
    modal: $('modal'), modalForm: $('modal-form'), modalTitle: $('modal-title'),
    modalFields: $('modal-fields'), modalError: $('modal-error'),
    modalSubmit: $('modal-submit'), modalCancel: $('modal-cancel'),
  };
  const storageKey = 'advocate-sandbox-persona';
  const maxNotes = 5;

  const app = {
    me: null,
    personas: [],
    channels: [],
    current: 'support',
    first: true,
    seen: {}, // channel name -> messages seen there
    clicked: new Set(), // action IDs used in this page
    notes: {}, // channel name -> [{id, text, error}]
    noteSeq: 0,
    view: null, // the open modal: {id, channel}
    nodes: new Map(), // key -> {sig, el}: the message nodes on the page
    live: new Set(), // keys used by the render under way
    thread: null, // the thread the composer replies in: {channel, id, text}
    source: null,
    loading: false,
    again: false,
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    };
    const res = await fetch(path, opts);
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (!res.ok) throw new Error(data.error || ('request failed (HTTP ' + res.status + ')'));
    return data;
  }

  // --- personas and live updates ---

  function fillPersonas() {
    ui.persona.replaceChildren();
    for (const [label, staff] of [['Customers', false], ['Staff', true]]) {
      const group = document.createElement('optgroup');
      group.label = label;
      for (const p of app.personas.filter((p) => p.staff === staff)) {
        const o = el('option', null, p.name);
        o.value = p.id;
        group.append(o);
      }
      ui.persona.append(group);
    }
  }

  function setPersona(id) {
    app.me = app.personas.find((p) => p.id === id) || app.personas[0];
    ui.persona.value = app.me.id;
    document.body.dataset.persona = app.me.id;
    try { localStorage.setItem(storageKey, app.me.id); } catch (e) { /* private mode */ }
    const url = new URL(location.href);
    url.searchParams.set('as', app.me.id);
    history.replaceState(null, '', url);
    app.first = true;
    app.seen = {};
    app.clicked = new Set();
    app.notes = {};
    app.thread = null;
    app.nodes = new Map();
    closeModal();
    connect();
    refresh();
  }

  function connect() {
    if (app.source) app.source.close();
    const src = new EventSource('api/events?as=' + encodeURIComponent(app.me.id));
    app.source = src;
    src.addEventListener('hello', () => { setLive(true); refresh(); });
    src.addEventListener('change', () => refresh());
    src.onerror = () => {
      setLive(false);
      if (src.readyState === EventSource.CLOSED) {
        // The server refused the stream (not running yet): try again later.
        setTimeout(() => { if (app.source === src) connect(); }, 3000);
      }
    };
  }

  function setLive(on) {
    ui.status.textContent = on ? 'live' : 'reconnecting…';
    ui.status.classList.toggle('live', on);
  }

  // refresh loads the persona's state; calls during a load are coalesced.
  async function refresh() {
    if (app.loading) { app.again = true; return; }
    app.loading = true;
    try {
      do {
        app.again = false;
        const me = app.me.id;
        const st = await api('api/state?as=' + encodeURIComponent(me));
        if (app.me.id !== me) { app.again = true; continue; }
        apply(st);
      } while (app.again);
    } catch (e) {
      addNote(app.current, 'Could not load the conversation: ' + e.message, true);
    } finally {
      app.loading = false;
    }
  }

  function apply(st) {
    app.channels = st.channels || [];
    if (st.dashboard) {
      ui.dashboard.href = st.dashboard;
      ui.dashboard.hidden = false;
    } else {
      ui.dashboard.hidden = true;
    }
    if (!app.channels.some((c) => c.name === app.current)) app.current = 'support';
    for (const c of app.channels) {
      if (app.first || c.name === app.current) app.seen[c.name] = c.messages.length;
    }
    app.first = false;
    renderChannels();
    renderMessages(false);
    document.body.dataset.version = String(st.version);
  }

  // --- channels ---

  function renderChannels() {
    ui.channels.replaceChildren();
    const groups = [
      ['Channels', app.channels.filter((c) => c.kind !== 'case')],
      ['Private conversations', app.channels.filter((c) => c.kind === 'case').reverse()],
    ];
    for (const [label, list] of groups) {
      if (!list.length) continue;
      ui.channels.append(el('h2', null, label));
      for (const c of list) ui.channels.append(channelButton(c));
    }
    const current = ui.channels.querySelector('.chan.current');
    if (current) current.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  function channelButton(c) {
    const b = el('button', 'chan');
    b.type = 'button';
    b.dataset.channel = c.name;
    b.append(el('span', 'chan-name', (c.kind === 'case' ? '🔒 ' : '# ') + c.name));
    if (c.kind === 'case' && c.customer) b.append(el('span', 'chan-sub', c.customer));
    const unread = c.messages.length - (app.seen[c.name] || 0);
    if (c.name === app.current) {
      b.classList.add('current');
      b.setAttribute('aria-current', 'true');
    } else if (unread > 0) {
      b.classList.add('unread');
      b.append(el('span', 'badge', String(unread)));
    }
    b.addEventListener('click', () => selectChannel(c.name));
    return b;
  }

  function selectChannel(name) {
    if (app.current !== name) app.thread = null;
    app.current = name;
    const c = app.channels.find((x) => x.name === name);
    if (c) app.seen[name] = c.messages.length;
    renderChannels();
    renderMessages(true);
  }

  // --- messages ---

  function renderMessages(toBottom) {
    const c = app.channels.find((x) => x.name === app.current);
    const box = ui.messages;
    const atBottom = toBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    ui.title.textContent = c ? c.title : '';
    ui.topic.textContent = c ? c.topic : '';
    ui.input.placeholder = c ? 'Message ' + c.title : 'Message';
    ui.hint.textContent = hintFor(c);
    app.live = new Set();
    if (!c) {
      reconcile(box, []);
      return;
    }
    const replies = new Map();
    for (const m of c.messages) {
      if (!m.thread) continue;
      if (!replies.has(m.thread)) replies.set(m.thread, []);
      replies.get(m.thread).push(m);
    }
    const top = c.messages.filter((m) => !m.thread);
    if (app.thread && !top.some((m) => m.id === app.thread.id && !m.deleted)) app.thread = null;
    const kids = [];
    if (!top.length) kids.push(cached('empty', '', () => el('p', 'empty', 'No messages yet.')));
    for (const m of top) {
      const key = c.name + '/' + m.id;
      const art = cached(key, messageSig(m), () => renderMessage(m));
      const rs = replies.get(m.id) || [];
      const t = cached(key + '/thread', '', () => el('div', 'thread'));
      const inThread = [];
      if (rs.length) {
        inThread.push(cached(key + '/count', String(rs.length), () => el('div', 'thread-count', rs.length === 1 ? '1 reply' : rs.length + ' replies')));
      }
      for (const r of rs) inThread.push(cached(c.name + '/' + r.id, messageSig(r), () => renderMessage(r)));
      // Threads are where staff work a case; elsewhere nobody reads a reply.
      if (!m.deleted && c.kind === 'staff') inThread.push(cached(key + '/reply', m.text, () => replyButton(c, m)));
      reconcile(t, inThread);
      if (t.parentNode !== art) art.append(t);
      art.classList.toggle('replying-here', !!(app.thread && app.thread.id === m.id));
      kids.push(art);
    }
    for (const n of app.notes[c.name] || []) kids.push(cached('note/' + c.name + '/' + n.id, '', () => renderNote(c.name, n)));
    reconcile(box, kids);
    for (const k of [...app.nodes.keys()]) if (!app.live.has(k)) app.nodes.delete(k);
    renderReplying();
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  // Message nodes are kept while their message is unchanged, and left in
  // place, so a click never lands on a node the page has just replaced.
  function cached(key, sig, make) {
    app.live.add(key);
    const hit = app.nodes.get(key);
    if (hit && hit.sig === sig) return hit.el;
    const node = make();
    app.nodes.set(key, { sig, el: node });
    return node;
  }

  // reconcile makes parent's children exactly kids, moving only what changed.
  function reconcile(parent, kids) {
    kids.forEach((k, i) => {
      if (parent.children[i] !== k) parent.insertBefore(k, parent.children[i] || null);
    });
    while (parent.children.length > kids.length) parent.lastElementChild.remove();
  }

  // messageSig is what a message's node shows.
  function messageSig(m) {
    const buttons = (m.buttons || []).map((b) => [b.action_id, b.label, b.href, b.style, b.staff, app.clicked.has(b.action_id)]);
    return JSON.stringify([m.text, m.edited, m.deleted, m.author, m.at, buttons]);
  }

  // replyButton starts a reply in the message's thread.
  function replyButton(c, m) {
    const b = el('button', 'reply', 'Reply in thread');
    b.type = 'button';
    b.addEventListener('click', () => {
      app.thread = { channel: c.name, id: m.id, text: m.text.split('\n')[0] };
      renderMessages(false);
      ui.input.focus();
    });
    return b;
  }

  function renderReplying() {
    const t = app.thread;
    ui.replying.hidden = !t;
    ui.replyingText.textContent = t ? 'Replying in the thread of “' + t.text + '”' : '';
    const c = app.channels.find((x) => x.name === app.current);
    ui.input.placeholder = t ? 'Reply in thread' : (c ? 'Message ' + c.title : 'Message');
  }

  function renderMessage(m) {
    const art = el('article', 'msg');
    art.dataset.id = m.id;
    const av = el('div', 'avatar ' + (m.author.bot ? 'bot' : 'c' + (hash(m.author.id) % 8)), m.author.bot ? 'a' : initial(m.author.name));
    av.setAttribute('aria-hidden', 'true');
    const body = el('div', 'body');
    const head = el('div', 'msg-head');
    head.append(el('span', 'author', m.author.name));
    if (m.author.bot) head.append(el('span', 'tag', 'bot'));
    else if (m.author.staff) head.append(el('span', 'tag staff', 'staff'));
    const t = el('time', 'time', formatTime(m.at));
    t.dateTime = m.at;
    head.append(t);
    if (m.edited) head.append(el('span', 'edited', '(edited)'));
    body.append(head, renderText(m));
    if (m.buttons && m.buttons.length) body.append(renderButtons(m));
    art.append(av, body);
    return art;
  }

  // renderText shows lines starting with "> " as quotes, the rest as text.
  function renderText(m) {
    const box = el('div', 'text');
    if (m.deleted) {
      box.classList.add('deleted');
      box.textContent = 'This message was deleted.';
      return box;
    }
    let plain = [];
    const flush = () => {
      if (plain.length) box.append(document.createTextNode(plain.join('\n')));
      plain = [];
    };
    for (const line of m.text.split('\n')) {
      if (line.startsWith('> ')) {
        flush();
        box.append(el('blockquote', null, line.slice(2)));
      } else {
        plain.push(line);
      }
    }
    flush();
    return box;
  }

  function renderButtons(m) {
    const row = el('div', 'buttons');
    for (const b of m.buttons) {
      const used = app.clicked.has(b.action_id);
      let node;
      if (b.href) {
        node = el('a', 'btn link', b.label);
        node.href = b.href;
        node.target = '_blank';
        node.rel = 'noopener noreferrer';
        if (used) markUsed(node);
        node.addEventListener('click', () => {
          app.clicked.add(b.action_id);
          markUsed(node);
        });
      } else {
        node = el('button', 'btn', b.label);
        node.type = 'button';
        node.disabled = used;
        node.addEventListener('click', () => click(m, b, node));
      }
      if (b.style === 'primary' || b.style === 'danger') node.classList.add(b.style);
      if (b.staff) {
        node.classList.add('staff');
        node.title = 'Staff only';
      }
      row.append(node);
    }
    return row;
  }

  function markUsed(a) {
    a.classList.add('used');
    a.setAttribute('aria-disabled', 'true');
    a.tabIndex = -1;
  }

  async function click(m, b, node) {
    const channel = app.current;
    app.clicked.add(b.action_id);
    node.disabled = true;
    try {
      const r = await api('api/click', { as: app.me.id, message: m.id, action_id: b.action_id });
      handleReply(r, channel);
    } catch (e) {
      app.clicked.delete(b.action_id);
      node.disabled = false;
      addNote(channel, e.message, true);
    }
  }

  function handleReply(r, channel) {
    if (r.ephemeral) addNote(channel, r.ephemeral, false);
    if (r.modal) openModal(r.modal, channel);
  }

  // --- notes: ephemeral replies, shown only to this persona ---

  function addNote(channel, text, error) {
    const list = app.notes[channel] || (app.notes[channel] = []);
    list.push({ id: ++app.noteSeq, text, error });
    if (list.length > maxNotes) list.shift();
    if (channel === app.current) renderMessages(true);
  }

  function renderNote(channel, n) {
    const box = el('div', n.error ? 'note error' : 'note');
    box.setAttribute('role', 'status');
    const body = el('div', 'note-body');
    body.append(el('span', 'note-label', n.error ? 'Not sent' : 'Only visible to you'));
    body.append(document.createTextNode(n.text));
    const dismiss = el('button', null, 'Dismiss');
    dismiss.type = 'button';
    dismiss.addEventListener('click', () => {
      app.notes[channel] = (app.notes[channel] || []).filter((x) => x.id !== n.id);
      renderMessages(false);
    });
    box.append(body, dismiss);
    return box;
  }

  // --- composer ---

  function hintFor(c) {
    if (!c || !app.me) return '';
    if (app.me.staff && c.kind === 'case') return 'Staff: the customer reads this channel. /claim · /resolve · /reopen · /note text (kept on the staff side) · /stats 30d';
    if (app.me.staff && c.name === 'staff') return 'Staff: reply in a case\'s thread to answer the customer; !note text is a note. In the thread: /claim · /resolve · /reopen · /note text';
    if (app.me.staff) return 'Staff: /notice #support text · /stats 7d';
    if (c.name === 'support') return 'Ask a question here, or type /support to open a private case.';
    return '';
  }

  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 160) + 'px';
  }

  ui.composer.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = ui.input.value;
    if (!text.trim() || !app.me) return;
    const channel = app.current;
    const thread = app.thread && app.thread.channel === channel ? app.thread.id : undefined;
    ui.input.value = '';
    autosize();
    try {
      const r = await api('api/say', { as: app.me.id, channel, thread, text });
      handleReply(r, channel);
    } catch (err) {
      if (!ui.input.value) ui.input.value = text;
      addNote(channel, err.message, true);
    }
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.input.addEventListener('input', autosize);
  ui.replyingCancel.addEventListener('click', () => {
    app.thread = null;
    renderMessages(false);
  });

  // --- modals ---

  function openModal(m, channel) {
    app.view = { id: m.view, channel };
    ui.modalTitle.textContent = m.title;
    ui.modalSubmit.textContent = m.submit || 'Submit';
    ui.modalError.hidden = true;
    ui.modalFields.replaceChildren();
    (m.fields || []).forEach((f, i) => {
      const id = 'modal-field-' + i;
      if (f.check) {
        ui.modalFields.append(checkField(f, id));
        return;
      }
      const wrap = el('div', 'field');
      const label = el('label', null, f.label);
      label.htmlFor = id;
      const input = f.multiline ? el('textarea') : el('input');
      if (!f.multiline) input.type = 'text';
      input.id = id;
      input.name = f.id;
      input.value = f.value || '';
      input.required = !!f.required;
      if (f.max_len > 0) input.maxLength = f.max_len;
      wrap.append(label, input);
      if (f.max_len > 0) {
        const counter = el('div', 'counter');
        const update = () => { counter.textContent = input.value.length + ' / ' + f.max_len; };
        update();
        input.addEventListener('input', update);
        wrap.append(counter);
      }
      ui.modalFields.append(wrap);
    });
    if (!ui.modal.open) ui.modal.showModal();
    const first = ui.modalFields.querySelector('textarea, input');
    if (first) first.focus();
  }

  // checkField is a modal's check box: unticked unless the bot ticked it,
  // submitted as "yes" when ticked and "" when not.
  function checkField(f, id) {
    const wrap = el('div', 'field check');
    const input = el('input');
    input.type = 'checkbox';
    input.id = id;
    input.name = f.id;
    input.value = 'yes';
    input.checked = f.value === 'yes';
    const label = el('label', null, f.label);
    label.htmlFor = id;
    wrap.append(input, label);
    return wrap;
  }

  function closeModal() {
    app.view = null;
    if (ui.modal.open) ui.modal.close();
  }

  ui.modalForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const view = app.view;
    if (!view) return;
    const fields = {};
    for (const input of ui.modalFields.querySelectorAll('input, textarea')) {
      fields[input.name] = input.type === 'checkbox' ? (input.checked ? input.value : '') : input.value;
    }
    ui.modalSubmit.disabled = true;
    try {
      const r = await api('api/submit', { as: app.me.id, view: view.id, fields });
      closeModal();
      handleReply(r, view.channel);
    } catch (err) {
      ui.modalError.textContent = err.message;
      ui.modalError.hidden = false;
    } finally {
      ui.modalSubmit.disabled = false;
    }
  });
  ui.modalCancel.addEventListener('click', closeModal);
  ui.modal.addEventListener('close', () => { app.view = null; });

  // --- helpers ---

  function hash(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h;
  }

  function initial(name) {
    const ch = Array.from((name || '?').trim())[0] || '?';
    return ch.toUpperCase();
  }

  function formatTime(at) {
    const d = new Date(at);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // --- start ---

  ui.persona.addEventListener('change', () => setPersona(ui.persona.value));

  async function start() {
    try {
      const data = await api('api/personas');
      app.personas = data.personas || [];
      if (!app.personas.length) throw new Error('no personas');
      fillPersonas();
      let as = new URLSearchParams(location.search).get('as');
      if (!as) { try { as = localStorage.getItem(storageKey); } catch (e) { as = null; } }
      setPersona(as);
    } catch (e) {
      ui.title.textContent = 'The sandbox could not start';
      ui.topic.textContent = e.message;
    }
  }
  start();
})();

// The page's script: it keeps the table of live channels current from
// the server's event stream, and posts the call form with its token.
// Data is only ever put in the page as text (textContent), never as
// markup.
'use strict';

const channels = new Map(); // by uniqueid
const tbody = document.getElementById('channels');
const statusLine = document.getElementById('status');
const result = document.getElementById('result');

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function join(...parts) {
  return parts.filter((p) => p).join(' ');
}

function render() {
  const list = [...channels.values()].sort((a, b) => a.name.localeCompare(b.name));
  tbody.replaceChildren(...list.map((c) => {
    const tr = document.createElement('tr');
    tr.append(
      cell(c.name),
      cell(c.state),
      cell(join(c.callerIDName, c.callerIDNum)),
      cell(join(c.connectedLineName, c.connectedLineNum)),
      cell(c.exten + '@' + c.context),
    );
    return tr;
  }));
  statusLine.textContent = list.length + (list.length === 1 ? ' channel' : ' channels');
}

const events = new EventSource('/events');
events.addEventListener('snapshot', (e) => {
  const snap = JSON.parse(e.data);
  channels.clear();
  for (const c of snap.channels) channels.set(c.uniqueid, c);
  render();
});
events.addEventListener('channel', (e) => {
  const d = JSON.parse(e.data);
  if (d.op === 'remove') channels.delete(d.channel.uniqueid);
  else channels.set(d.channel.uniqueid, d.channel);
  render();
});
events.addEventListener('gap', () => {
  statusLine.textContent = 'Events may have been missed: listing the channels again…';
});
events.addEventListener('originate', (e) => {
  const o = JSON.parse(e.data);
  result.textContent = 'Call ' + o.actionID + ': ' + o.response + ' (' + o.channel + ')';
});
events.addEventListener('error', () => {
  statusLine.textContent = 'Disconnected: reconnecting…';
});

document.getElementById('call').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const body = new URLSearchParams({ from: form.from.value, to: form.to.value });
  result.textContent = 'Calling…';
  try {
    const resp = await fetch('/originate', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + form.token.value },
      body,
    });
    const answer = await resp.json();
    result.textContent = resp.ok
      ? 'Call ' + answer.actionID + ' queued'
      : 'Refused (' + resp.status + '): ' + answer.error;
  } catch (err) {
    result.textContent = 'Failed: ' + err;
  }
});

// wash ui: renders the snapshot the server pushes over server-sent events. Plain DOM, no
// framework; every value is set as text, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let snapshot = null;
const expanded = new Set(); // apps whose scaler rows are open
const feed = [];
const maxFeed = 200;
let hostNames = {};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k === "title") e.title = v;
    else if (k === "onclick") e.addEventListener("click", v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function badge(status) {
  const s = status || "undeployed";
  return el("span", { class: "badge s-" + s, "data-status": s }, s);
}

function shortID(id) { return id && id.length > 12 ? id.slice(0, 12) + "…" : id || ""; }

function uptime(secs) {
  if (secs < 60) return secs + "s";
  if (secs < 3600) return Math.floor(secs / 60) + "m";
  if (secs < 86400) return Math.floor(secs / 3600) + "h" + Math.floor((secs % 3600) / 60) + "m";
  return Math.floor(secs / 86400) + "d" + Math.floor((secs % 86400) / 3600) + "h";
}

function maxInst(n) { return n === 4294967295 ? "unbounded" : String(n); }

function userLabels(labels) {
  return Object.keys(labels || {}).filter((k) => !k.startsWith("hostcore.")).sort().map((k) => k + "=" + labels[k]);
}

function renderTiles(s) {
  const comps = new Set(), provs = new Set();
  for (const h of s.hosts) {
    h.components.forEach((c) => comps.add(c.id));
    h.providers.forEach((p) => provs.add(p.id));
  }
  const tiles = [["Hosts", s.hosts.length], ["Components", comps.size], ["Providers", provs.size],
    ["Apps", s.apps_error ? "?" : s.apps.length], ["Links", s.links.length], ["Config", s.config.length]];
  $("tiles").replaceChildren(...tiles.map(([label, n]) => el("div", { class: "tile", "data-tile": label.toLowerCase() }, el("b", {}, n), label)));
}

function renderApps(s) {
  const body = $("apps").tBodies[0];
  const rows = [];
  for (const a of s.apps) {
    const open = expanded.has(a.name);
    rows.push(el("tr", { class: "app", "data-app": a.name, "data-status": a.status, title: "show scalers",
      onclick: () => { open ? expanded.delete(a.name) : expanded.add(a.name); renderApps(snapshot); } },
      el("td", {}, el("b", {}, (open ? "▾ " : "▸ ") + a.name), a.description ? el("div", { class: "dim" }, a.description) : null),
      el("td", { class: "mono" }, a.deployed_version || "—"),
      el("td", { class: "mono" }, a.version),
      el("td", {}, badge(a.status)),
      el("td", {}, a.message || "")));
    if (open) {
      const sc = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Scaler"), el("th", {}, "Kind"), el("th", {}, "Status"), el("th", {}, "Message"))),
        el("tbody", {}, a.scalers.length ? a.scalers.map((x) => el("tr", { "data-scaler": x.id },
          el("td", { class: "mono" }, x.name), el("td", {}, x.kind), el("td", {}, badge(x.status)), el("td", {}, x.message || ""))) :
          el("tr", {}, el("td", { class: "dim" }, "no scalers"))));
      rows.push(el("tr", { class: "scalers" }, el("td", {}, sc)));
      rows[rows.length - 1].firstChild.colSpan = 5;
    }
  }
  body.replaceChildren(...rows);
  const empty = $("apps-empty");
  empty.hidden = s.apps.length > 0 && !s.apps_error;
  empty.className = s.apps_error ? "empty error" : "empty";
  empty.textContent = s.apps_error || "No apps: deploy one with wash app deploy.";
}

function workloadList(items, kind) {
  if (!items.length) return el("p", { class: "dim" }, "none");
  return el("ul", {}, items.map((w) => el("li", { ["data-" + kind]: w.id },
    el("span", { class: "mono" }, w.id),
    kind === "component" ? el("span", { class: "chip" }, "×" + maxInst(w.max_instances)) : null,
    w.app ? el("span", { class: "chip", title: "app" }, w.app) : null,
    el("span", { class: "dim mono" }, w.image_ref))));
}

function renderHosts(s) {
  hostNames = {};
  for (const h of s.hosts) hostNames[h.id] = h.name;
  $("hosts").replaceChildren(...s.hosts.map((h) => el("div", { class: "card", "data-host-id": h.id },
    el("h3", {}, h.name || shortID(h.id)),
    el("div", { class: "id" }, h.id),
    el("div", { class: "dim" }, "v" + h.version + " · up " + uptime(h.uptime_seconds)),
    el("ul", { class: "chips" }, userLabels(h.labels).map((l) => el("li", {}, l))),
    el("h4", {}, "Components (" + h.components.length + ")"), workloadList(h.components, "component"),
    el("h4", {}, "Providers (" + h.providers.length + ")"), workloadList(h.providers, "provider"))));
  const empty = $("hosts-empty");
  empty.hidden = s.hosts.length > 0;
  if (s.hosts_error) { empty.hidden = false; empty.className = "empty error"; empty.textContent = s.hosts_error; }
}

function renderLinks(s) {
  $("links").tBodies[0].replaceChildren(...s.links.map((l) => el("tr", {},
    el("td", { class: "mono" }, l.source), el("td", { class: "mono" }, l.target),
    el("td", { class: "mono" }, l.wit + "/" + l.interfaces.join(",")), el("td", {}, l.name),
    el("td", { class: "mono" }, [...l.source_config, ...l.target_config].join(", ") || "—"))));
  $("links-empty").hidden = s.links.length > 0;
  $("config").replaceChildren(...s.config.map((n) => el("li", { "data-config": n }, n)));
  $("config-empty").hidden = s.config.length > 0;
}

function render(s) {
  snapshot = s;
  $("lattice").textContent = s.lattice;
  $("server").textContent = s.server_url;
  $("updated").textContent = new Date(s.updated).toLocaleTimeString();
  renderTiles(s);
  renderApps(s);
  renderHosts(s);
  renderLinks(s);
}

function feedRow(e, fresh) {
  let cls = "name";
  if (e.name.endsWith("_failed") || e.name === "host_stopped") cls += " bad";
  else if (e.name.endsWith("_started") || e.name === "component_scaled" || e.name === "linkdef_set") cls += " ok";
  else if (e.name === "host_heartbeat" || e.name.startsWith("health_check")) cls += " quiet";
  return el("li", { class: fresh ? "new" : "", "data-event": e.name },
    el("span", { class: "dim mono" }, new Date(e.time).toLocaleTimeString()),
    el("span", { class: cls }, e.name),
    el("span", { class: "source" }, hostNames[e.source] || shortID(e.source)),
    el("span", { class: "summary mono" }, e.summary));
}

function addEvents(items, fresh) {
  for (const e of items) feed.push(e);
  feed.splice(0, Math.max(0, feed.length - maxFeed));
  const list = $("events");
  for (const e of items) list.prepend(feedRow(e, fresh));
  while (list.children.length > maxFeed) list.lastChild.remove();
  $("events-empty").hidden = feed.length > 0;
  $("events-count").textContent = feed.length ? "(" + feed.length + ")" : "";
}

function connect() {
  const es = new EventSource("api/stream");
  const conn = $("conn");
  es.addEventListener("open", () => { conn.textContent = "● live"; conn.className = "conn up"; });
  es.addEventListener("error", () => { conn.textContent = "○ reconnecting…"; conn.className = "conn down"; });
  es.addEventListener("snapshot", (m) => render(JSON.parse(m.data)));
  es.addEventListener("feed", (m) => { $("events").replaceChildren(); feed.length = 0; addEvents(JSON.parse(m.data) || [], false); });
  es.addEventListener("event", (m) => addEvents([JSON.parse(m.data)], true));
}

connect();

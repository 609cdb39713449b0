// The settings panel: engines (the default per task, what runs on import, each engine's parameters),
// automatic snapshots, the update check, the password, browser sessions, API tokens, share links and the
// library's accounts. Revoking asks first and a revoked token or link shows as such; new secrets get a copy
// button. A member or viewer sees their own password only: everything else here is an administrator's.

import { accessSection, bindAccess } from "./accounts.js";
import { bindLink, bindProvider, linkSection, providerSection } from "./identity_provider.js";
import { api } from "../api.js";
import { backupSettingsSection, bindBackupSettings } from "./backup_settings.js";
import { bindComfySettings, comfySettingsSection } from "./comfy.js";
import { confirmAction } from "../dialogs.js";
import { control, read } from "../menus/engine_dialog.js";
import { modelDialog } from "../menus/model_dialog.js";
import { esc, toast } from "../ui.js";
import { showUpdateBanner } from "../update_banner.js";

const TASKS = ["tagger", "captioner", "embedder", "faces", "ocr"];  // one engine each; every scorer has its own box
const TABS = ["Engines", "Library", "Account", "Access", "Sharing", "ComfyUI"];
let activeTab = TABS[0]; // kept while the page lives: the panel reopens where it was left

/** Tabs as people expect them: a click or the arrow keys pick one; the others' sections hide. */
function bindTabs(panel) {
  const tabs = [...panel.querySelectorAll("[role=tab]")];
  const pick = (tab) => {
    activeTab = tab.textContent;
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      panel.querySelector(`#${t.getAttribute("aria-controls")}`).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.onclick = () => pick(tab);
    tab.onkeydown = (event) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      event.stopPropagation();
      const target = tabs[(next + tabs.length) % tabs.length];
      pick(target);
      target.focus();
    };
  });
}

/** Copy ``text`` (the Clipboard API where the page may use it, else a selected text field). */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast("Copied");
}

export function copyButton(text, label = "Copy") {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.onclick = () => copy(text);
  return button;
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "never";
}

function engineSection(settings, engines) {
  const withParameters = engines.filter((e) => e.parameters.length);
  // The engine a task would run (its default), when its model is not here: on import waits for it.
  const missing = (task) => {
    const engine = engines.find((e) => e.task === task && e.is_default);
    return engine && !engine.model.present ? engine : null;
  };
  return `<section><h3>Engines</h3><form id="engine-settings" class="list">
    ${TASKS.map((t) => {
      const list = engines.filter((e) => e.task === t);
      return `<label class="row">${esc(t)} <select name="${t}" aria-label="${t} engine"><option value="">${list.length ? "automatic" : "none installed"}</option>
        ${list.map((e) => `<option value="${esc(e.id)}" ${settings.defaults[t] === e.id ? "selected" : ""}>${esc(e.label)}${e.model.present ? "" : " (model missing)"}</option>`).join("")}
        </select><label><input type="checkbox" name="import-${t}" ${list.length ? "" : "disabled"} ${
          list.length && settings.on_import.includes(t) ? "checked" : ""}> on import${
          !list.length ? " (none installed)" : missing(t) ? " (waits for its model)" : ""}</label>${missing(t) ? ` <button type="button" data-get-model="${
          esc(missing(t).id)}">Get model…</button>` : ""}</label>`;
    }).join("")}
    ${engines.filter((e) => e.task === "scorer").map((e) => `<label class="row check"><input type="checkbox"
      name="import-score" value="${esc(e.id)}" ${settings.on_import.includes(e.id) ? "checked" : ""}> Score ${esc(e.label)}
      on import${e.model.present ? "" : " (waits for its model)"}</label>`).join("")}
    <label class="row">Device <select name="device" aria-label="Device">${["auto", "cpu", "cuda", "mps"].map((d) =>
      `<option ${settings.device === d ? "selected" : ""}>${d}</option>`).join("")}</select></label>
    ${withParameters.map((e) => `<fieldset class="engine-parameters engine-form" data-engine="${esc(e.id)}"
      aria-label="${esc(e.label)} parameters"><legend>${esc(e.label)}: what it runs with (on import too)</legend>
      ${e.parameters.map((p) => control(p, settings.parameters?.[e.id]?.[p.name] ?? p.default)).join("")}</fieldset>`).join("")}
    <p class="muted" id="engine-saved" role="status" aria-live="polite">Changes are saved as you make them.</p></form>
    ${engines.filter((e) => !e.model.present).map((e) => `<p class="muted"><small>${esc(e.id)}: ${esc(e.model.how_to_get)}</small></p>`).join("")}
    ${engines.filter((e) => e.model.note).map((e) => `<p class="muted"><small>${esc(e.id)}: ${esc(e.model.note)}</small></p>`).join("")}
  </section>`;
}

/** Where the originals are: the library's folder or a bucket (whose address is the only one contacted for
 * them), how many, and whether the store answers now (`pixlstash storage` changes it). */
export function storageSection(storage) {
  if (!storage) return "";
  const down = storage.state !== "answers";
  return `<section id="storage"><h3>Originals</h3><p>${storage.originals.toLocaleString()} in <code>${esc(storage.where)}</code>
    ${storage.remote ? "(object storage: PixlStash contacts this address for originals, and no other)" : ""}</p>
    <p class="${down ? "error" : "muted"}" role="status">${down ? esc(storage.state) : "The store answers."}</p>
    <p class="muted"><small>Moving them: <code>pixlstash storage migrate</code>.</small></p></section>`;
}

/** An engine's parameters as the form has them, leaving out those at the engine's own default. */
function changedParameters(engine, box) {
  const values = read(box);
  const declared = new Map(engine.parameters.map((p) => [p.name, p]));
  return Object.fromEntries(Object.entries(values).filter(([name, value]) => {
    const fallback = declared.get(name)?.default;
    if (value === "" && fallback == null) return false;
    return JSON.stringify(value) !== JSON.stringify(fallback);
  }));
}

/** What someone who is not an administrator may change here: their own password, and (a member) whether
 * their uploads stay theirs until they share them. */
async function renderOwnSettings(app, panel, header, bindClose) {
  const link = await linkSection().catch(() => "");
  panel.innerHTML = `${header("Settings")}${app.me.scope === "write" ? uploadsSection(app.me) : ""}${passwordSection()}${link}`;
  bindClose(panel);
  bindPassword(panel, () => {});
  bindUploads(app, panel);
  bindLink(panel);
}

/** Where the library has more than one person: one's own default for one's uploads. */
function uploadsSection(me) {
  if (!(me.accounts > 1) || me.user_id == null) return "";
  const room = me.quota_bytes == null ? "" : `<p class="muted" id="uploads-quota">You use ${
    megabytes(me.uploaded_bytes)} of the ${megabytes(me.quota_bytes)} you may upload.</p>`;
  return `<section><h3>Your uploads</h3><label><input type="checkbox" id="uploads-private" ${me.uploads_private ? "checked" : ""}>
    Keep what I upload to myself until I share it (admins see everything)</label>${room}</section>`;
}

const megabytes = (bytes) => `${(bytes / 1e6).toLocaleString(undefined, { maximumFractionDigits: 1 })} MB`;

function bindUploads(app, panel) {
  const box = panel.querySelector("#uploads-private");
  if (!box) return;
  box.onchange = async () => {
    try {
      app.me = await api.patch("/auth/me", { uploads_private: box.checked });
      toast(box.checked ? "Your uploads stay yours until you share them" : "Your uploads are shared with the library");
    } catch (error) { toast(error.message); box.checked = !box.checked; }
  };
}

function passwordSection() {
  return `<section><h3>Password</h3><form id="password-form" class="list">
      <input type="password" name="current" autocomplete="current-password" required aria-label="Current password" placeholder="current password">
      <input type="password" name="new" autocomplete="new-password" required minlength="8" aria-label="New password" placeholder="new password (8 characters or more)">
      <input type="password" name="again" autocomplete="new-password" required minlength="8" aria-label="New password again" placeholder="new password again">
      <p class="error" id="password-error" role="alert"></p>
      <button>Change password</button></form></section>`;
}

function bindPassword(panel, again) {
  panel.querySelector("#password-form").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const error = panel.querySelector("#password-error");
    if (form.new.value !== form.again.value) { error.textContent = "The new passwords differ."; return; }
    try {
      const changed = await api.post("/auth/password", { current_password: form.current.value, new_password: form.new.value });
      toast(`Password changed${changed.sessions_ended ? `; ${changed.sessions_ended} other session(s) signed out` : ""}`);
      form.reset();
      again();
    } catch (e) { error.textContent = e.message; }
  };
}

export async function renderSettings(app, panel, header, bindClose) {
  if (app.me?.scope && app.me.scope !== "admin") { await renderOwnSettings(app, panel, header, bindClose); return; }
  let settings; let engines; let updates; let tokens; let shares; let sessions; let schedule; let me; let comfy; let backup;
  let access; let link;
  // The originals' store is asked apart (administrators only): a slow bucket never holds the panel back.
  const storage = api.get("/storage").catch(() => null);
  try {
    [settings, engines, updates, tokens, shares, sessions, schedule, me, comfy, backup] = await Promise.all([
      api.get("/engines/settings"), api.get("/engines"), api.get("/updates"), api.get("/tokens"), api.get("/shares"),
      api.get("/sessions"), api.get("/snapshots/schedule"), api.get("/auth/me"), comfySettingsSection(),
      backupSettingsSection()]);
    access = (await accessSection(me)) + (await providerSection());
    link = await linkSection();
  } catch (error) { toast(error.message); return; }
  app.engines = engines;
  const again = () => renderSettings(app, panel, header, bindClose);
  const active = tokens.filter((t) => !t.revoked);
  const tab = (name, html) => `<div role="tabpanel" id="settings-${name.toLowerCase()}" aria-labelledby="tab-${
    name.toLowerCase()}" ${name === activeTab ? "" : "hidden"}>${html}</div>`;
  panel.innerHTML = `${header("Settings")}
    <div role="tablist" class="tabs" aria-label="Settings sections">${TABS.map((name) => `<button role="tab" id="tab-${
      name.toLowerCase()}" aria-controls="settings-${name.toLowerCase()}" aria-selected="${name === activeTab}"
      tabindex="${name === activeTab ? 0 : -1}">${name}</button>`).join("")}</div>
    ${tab("Engines", engineSection(settings, engines))}
    ${tab("Library", `<div id="storage-slot"></div><section><h3>Snapshots</h3><label><input type="checkbox" id="snapshot-schedule" ${schedule.enabled ? "checked" : ""}>
      Take daily, weekly and monthly snapshots automatically</label></section>
    ${backup}
    <section><h3>Updates</h3><label><input type="checkbox" id="update-check" ${updates.enabled ? "checked" : ""}>
      Check for updates (sends only the version; off by default)</label>
      ${updates.update_available ? `<p>Version ${esc(updates.latest)} is available.</p>` : ""}</section>`)}
    ${tab("Account", `${uploadsSection(me)}${passwordSection()}${link}
    <section><h3>Browser sessions</h3><div class="list" aria-label="Browser sessions">${sessions.map((s) => `<div class="row">
      <span>${esc(s.user_agent.slice(0, 60) || "unknown browser")}${s.id === me.session_id ? " <b>(this browser)</b>" : ""}
      <small class="muted">${esc(s.address)} · last seen ${when(s.last_seen_at)}</small></span>
      <button data-end-session="${s.id}">${s.id === me.session_id ? "Sign out" : "End"}</button></div>`).join("")}</div></section>
    <section><h3>API tokens</h3><div class="list" aria-label="API tokens">${tokens.map((t) => `<div class="row ${t.revoked ? "revoked" : ""}">
      <span>${esc(t.name)} <small class="muted">${esc(t.scope)} · ${esc(t.prefix)}… · last used ${when(t.last_used_at)}${t.revoked ? " · revoked" : ""}</small></span>
      ${t.revoked ? "" : `<button data-revoke-token="${t.id}" aria-label="Revoke token ${esc(t.name)}">Revoke</button>`}</div>`).join("")
      || '<p class="muted">No tokens.</p>'}</div>
      <form id="new-token" class="row"><input name="name" placeholder="token name" required aria-label="Token name">
      <select name="scope" aria-label="Token scope"><option>read</option><option>write</option><option>admin</option></select>
      <button>Create token</button></form><div id="token-secret" class="muted"></div>
      <p class="muted"><small>${active.length} active.</small></p></section>`)}
    ${tab("Access", access)}
    ${tab("Sharing", `<section><h3>Share links</h3><div class="list" id="share-list">${shares.map((s) => `<div class="row ${s.revoked ? "revoked" : ""}"><span>${esc(s.title || s.scope_type)}
      <small class="muted">${esc(s.scope_type)}${s.revoked ? " · revoked" : ""}${s.expires_at ? ` · expires ${new Date(s.expires_at).toLocaleDateString()}` : ""}</small></span>
      ${s.revoked ? "" : `<button data-revoke-share="${s.id}" aria-label="Revoke share ${esc(s.title || s.scope_type)}">Revoke</button>`}</div>`).join("")
      || '<p class="muted">No share links.</p>'}</div>
      <p class="muted"><small>A link is shown once, when it is made: only a fingerprint of it is kept, so a leak of
      this library's files cannot give it away. To send one again, share anew (and revoke the old one if it is lost).</small></p></section>`)}
    ${tab("ComfyUI", comfy)}`;
  bindTabs(panel);
  bindClose(panel);
  bindComfySettings(panel, again);
  bindBackupSettings(panel);
  storage.then((state) => {
    const slot = panel.querySelector("#storage-slot");
    if (slot) slot.innerHTML = storageSection(state);
  });
  panel.querySelectorAll("[data-get-model]").forEach((button) => {
    button.onclick = async () => {
      const engine = engines.find((e) => e.id === button.dataset.getModel);
      if (engine && await modelDialog(app, engine)) renderSettings(app, panel, header, bindClose);
    };
  });
  // Engine settings save as they change, as every other setting here does (one way of saving, no button
  // far below to forget); a text field saves when it is left.
  const engineForm = panel.querySelector("#engine-settings");
  engineForm.onsubmit = (event) => event.preventDefault();
  // A task with no engine installed keeps its "on import" for when one is (its box is disabled, so unsent).
  const installed = (task) => engines.some((e) => e.task === task);
  engineForm.onchange = async () => {
    const form = new FormData(engineForm);
    const defaults = {};
    for (const t of TASKS) if (form.get(t)) defaults[t] = form.get(t);
    const parameters = {};
    panel.querySelectorAll("[data-engine]").forEach((box) => {
      const values = changedParameters(engines.find((e) => e.id === box.dataset.engine), box);
      if (Object.keys(values).length) parameters[box.dataset.engine] = values;
    });
    const status = panel.querySelector("#engine-saved");
    try {
      settings = await api.put("/engines/settings", { ...settings, defaults, parameters,
        on_import: [...TASKS.filter((t) => form.get(`import-${t}`) || (settings.on_import.includes(t) && !installed(t))),
          ...form.getAll("import-score")],
        device: form.get("device") });
      status.textContent = `Saved ${new Date().toLocaleTimeString()}`;
    } catch (error) { status.textContent = ""; toast(error.message); }
  };
  panel.querySelector("#snapshot-schedule").onchange = async (event) => {
    try {
      await api.put("/snapshots/schedule", { enabled: event.target.checked });
      toast(event.target.checked ? "Automatic snapshots on" : "Automatic snapshots off");
    } catch (error) { toast(error.message); }
  };
  panel.querySelector("#update-check").onchange = async (event) => {
    try {
      await api.put("/settings/update-check", { enabled: event.target.checked });
      if (event.target.checked) await api.post("/updates/check"); // the first look, now rather than within the hour
      toast(event.target.checked ? "The update check is on" : "The update check is off");
      showUpdateBanner();
    } catch (error) { toast(error.message); }
  };
  bindPassword(panel, again);
  bindUploads(app, panel);
  bindAccess(panel, again, copyButton);
  bindProvider(panel, again);
  bindLink(panel);
  panel.querySelectorAll("[data-end-session]").forEach((b) => {
    b.onclick = async () => {
      const own = Number(b.dataset.endSession) === me.session_id;
      if (!(await confirmAction(own ? "Sign out of this browser?" : "End this browser session?",
        own ? "" : "That browser is signed out at once.", { ok: own ? "Sign out" : "End session", danger: !own }))) return;
      try { await api.del(`/sessions/${b.dataset.endSession}`); } catch (e) { toast(e.message); return; }
      if (own) location.reload(); else again();
    };
  });
  panel.querySelector("#new-token").onsubmit = async (event) => {
    event.preventDefault();
    try {
      const created = await api.post("/tokens", { name: event.target.name.value, scope: event.target.scope.value });
      await again();
      const box = panel.querySelector("#token-secret");
      box.innerHTML = `New token (shown once, copy it now): <code>${esc(created.token)}</code> `;
      box.append(copyButton(created.token, "Copy token"));
    } catch (error) { toast(error.message); }
  };
  panel.querySelectorAll("[data-revoke-token]").forEach((b) => {
    b.onclick = async () => {
      const token = tokens.find((t) => t.id === Number(b.dataset.revokeToken));
      if (!(await confirmAction(`Revoke the token ${token.name}?`, "Whatever uses it stops working at once.",
        { ok: "Revoke", danger: true }))) return;
      try { await api.del(`/tokens/${token.id}`); toast(`Revoked ${token.name}`); } catch (e) { toast(e.message); }
      again();
    };
  });
  panel.querySelectorAll("[data-revoke-share]").forEach((b) => {
    b.onclick = async () => {
      const share = shares.find((s) => s.id === Number(b.dataset.revokeShare));
      if (!(await confirmAction(`Revoke the share link ${share.title || share.scope_type}?`,
        "Whoever has the link loses access at once, open pages included.", { ok: "Revoke", danger: true }))) return;
      try { await api.del(`/shares/${share.id}`); toast("Share link revoked"); } catch (e) { toast(e.message); }
      again();
    };
  });
}

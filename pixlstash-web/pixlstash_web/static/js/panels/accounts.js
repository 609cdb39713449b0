// Settings › Access (administrators): the library's accounts with their roles, invites, and what each
// role may do. An invite's link is shown once, with a copy button; the owner and your own account have
// no buttons (the server refuses those changes too).

import { api } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { esc, toast } from "../ui.js";

const ROLES = {
  admin: "everything, accounts and settings included",
  member: "uploads, organises, runs engines and ComfyUI",
  viewer: "looks and downloads; changes nothing",
};

const day = (ms) => new Date(ms).toLocaleDateString();
const GB = 2 ** 30;
const QUOTAS = [null, 1, 5, 20, 100, 500].map((gb) => (gb === null ? null : gb * GB));
const quotaWords = (bytes) => (bytes == null ? "no quota" : `${(bytes / GB).toLocaleString()} GB`);

/** A quota to choose: none or a few sizes (and the account's own, when it is another). */
function quotaSelect(a) {
  const sizes = QUOTAS.includes(a.quota_bytes ?? null) ? QUOTAS : [...QUOTAS, a.quota_bytes];
  return `<select data-quota="${a.id}" aria-label="Quota of ${esc(a.username)}">${sizes.map((bytes) =>
    `<option value="${bytes ?? ""}" ${bytes === (a.quota_bytes ?? null) ? "selected" : ""}>${quotaWords(bytes)}</option>`).join("")}</select>`;
}

/** The section's HTML, from the accounts and invites (asked for here). */
export async function accessSection(me) {
  const [accounts, invites] = await Promise.all([api.get("/users"), api.get("/invites")]);
  const open = invites.filter((i) => i.state === "open");
  const row = (a) => {
    const fixed = a.role === "owner" || a.username === me.username;
    const controls = fixed ? `<small class="muted">${a.role === "owner" ? "the owner" : "you"}</small>` : `
      <select data-role="${a.id}" aria-label="Role of ${esc(a.username)}">${Object.keys(ROLES).map((r) =>
        `<option ${r === a.role ? "selected" : ""}>${r}</option>`).join("")}</select>
      ${quotaSelect(a)}
      <button data-disable="${a.id}" aria-label="${a.disabled ? "Enable" : "Disable"} ${esc(a.username)}">${
        a.disabled ? "Enable" : "Disable"}</button>
      <button data-remove="${a.id}" aria-label="Remove ${esc(a.username)}">Remove</button>`;
    return `<div class="row" data-account="${a.id}"><span>${esc(a.username)}
      <small class="muted">${esc(a.role)}${a.disabled ? " · disabled" : ""} · since ${day(a.created_at)}</small></span>
      <span class="row-controls">${controls}</span></div>`;
  };
  return `<section><h3>People &amp; access</h3><div class="list" aria-label="Accounts">${accounts.map(row).join("")}</div>
    <p class="muted"><small>${Object.entries(ROLES).map(([r, what]) => `<b>${r}</b>: ${what}`).join("; ")}.
      Disabling an account signs it out at once. A quota bounds what it may upload. Removing one hands what it
      brought into the library to the owner.</small></p></section>
    <section><h3>Invite someone</h3><form id="new-invite" class="row">
      <input name="note" placeholder="who it is for (optional)" aria-label="Who the invite is for" maxlength="200">
      <select name="role" aria-label="Role of the invited">${Object.keys(ROLES).map((r) =>
        `<option ${r === "member" ? "selected" : ""}>${r}</option>`).join("")}</select>
      <select name="days" aria-label="The invite works for"><option value="1">1 day</option>
        <option value="7" selected>7 days</option><option value="30">30 days</option></select>
      <button>Create invite</button></form><div id="invite-link" class="muted"></div>
      ${open.length ? `<div class="list" aria-label="Open invites">${open.map((i) => `<div class="row"><span>${
        esc(i.note || "invite")} <small class="muted">${esc(i.role)} · ${esc(i.prefix)}… · until ${day(i.expires_at)}</small></span>
        <button data-revoke-invite="${i.id}" aria-label="Revoke the invite ${esc(i.note || i.prefix)}">Revoke</button></div>`).join("")}</div>`
        : ""}
      <p class="muted"><small>An invite works once: its person chooses their own name and password. It is shown
      only when made.</small></p></section>`;
}

/** Wires the section; ``again`` draws the settings anew after a change; ``copyButton`` from settings. */
export function bindAccess(panel, again, copyButton) {
  const change = async (id, body, said) => {
    try { await api.patch(`/users/${id}`, body); toast(said); } catch (e) { toast(e.message); }
    again();
  };
  const nameOf = (id) => panel.querySelector(`[data-account="${id}"] span`).firstChild.textContent.trim();
  panel.querySelectorAll("[data-role]").forEach((select) => {
    select.onchange = () => change(select.dataset.role, { role: select.value },
      `${nameOf(select.dataset.role)} is now ${select.value === "admin" ? "an" : "a"} ${select.value}`);
  });
  panel.querySelectorAll("[data-quota]").forEach((select) => {
    select.onchange = () => change(select.dataset.quota, { quota_bytes: select.value ? Number(select.value) : null },
      `${nameOf(select.dataset.quota)}: ${quotaWords(select.value ? Number(select.value) : null)}`);
  });
  panel.querySelectorAll("[data-disable]").forEach((button) => {
    button.onclick = async () => {
      const id = button.dataset.disable;
      const disabling = button.textContent === "Disable";
      if (disabling && !(await confirmAction(`Disable ${nameOf(id)}?`,
        "Their browsers are signed out and their tokens stop working at once.", { ok: "Disable", danger: true }))) return;
      change(id, { disabled: disabling }, `${disabling ? "Disabled" : "Enabled"} ${nameOf(id)}`);
    };
  });
  panel.querySelectorAll("[data-remove]").forEach((button) => {
    button.onclick = async () => {
      const id = button.dataset.remove;
      const name = nameOf(id);
      if (!(await confirmAction(`Remove ${name}?`, "Their account and tokens go; what they brought into the library becomes the owner's.",
        { ok: "Remove", danger: true }))) return;
      try { await api.del(`/users/${id}`); toast(`Removed ${name}`); } catch (e) { toast(e.message); }
      again();
    };
  });
  panel.querySelector("#new-invite").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const made = await api.post("/invites", { role: form.role.value, note: form.note.value,
        expires_in_days: Number(form.days.value) });
      await again();
      const box = panel.querySelector("#invite-link");
      box.innerHTML = `Invite link (shown once, send it to them): <code>${esc(made.url)}</code> `;
      box.append(copyButton(made.url, "Copy invite link"));
    } catch (error) { toast(error.message); }
  };
  panel.querySelectorAll("[data-revoke-invite]").forEach((button) => {
    button.onclick = async () => {
      try { await api.del(`/invites/${button.dataset.revokeInvite}`); toast("Invite revoked"); } catch (e) { toast(e.message); }
      again();
    };
  });
}

// Sign-in with the household's or studio's identity provider (OpenID Connect): Settings › Access, where an
// administrator sets the provider up, and Settings › Account, where anyone links their own account to
// their identity there. The client secret is never shown again; left empty, the one set is kept.

import { api } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { esc, toast } from "../ui.js";

const ROLES = ["viewer", "member", "admin"];
const rolesOf = (values) => Object.entries(values || {}).map(([value, role]) => `${value}=${role}`).join(", ");

/** Settings › Access: the provider's settings (administrators). */
export async function providerSection() {
  const s = await api.get("/auth/oidc/settings");
  const redirect = s?.redirect_uri ?? `${location.origin}/api/v1/auth/oidc/callback`;
  const field = (name, label, value, extra = "") =>
    `<label>${label} <input name="${name}" value="${esc(value ?? "")}" ${extra}></label>`;
  return `<section id="identity-provider"><h3>Identity provider</h3>
    <p class="muted"><small>Let people sign in with your household's or studio's accounts (Authentik, Keycloak,
    Authelia, Kanidm, Google…). Register PixlStash there as a confidential web client with the redirect URI
    <code>${esc(redirect)}</code>.</small></p>
    <form id="provider-form" class="list">
      ${field("issuer", "Issuer", s?.issuer, 'type="url" required placeholder="https://id.example.org" spellcheck="false"')}
      ${field("client_id", "Client id", s?.client_id, "required spellcheck=\"false\"")}
      ${field("client_secret", "Client secret", "", `type="password" autocomplete="off" ${s ? 'placeholder="(kept)"' : "required"}`)}
      ${field("label", "Button name", s?.label ?? "your identity provider", "required maxlength=\"60\"")}
      <label><input type="checkbox" name="create_accounts" ${s?.create_accounts ? "checked" : ""}>
        Make an account at a person's first sign-in</label>
      <label>Their role <select name="default_role">${ROLES.map((r) =>
        `<option ${r === (s?.default_role ?? "viewer") ? "selected" : ""}>${r}</option>`).join("")}</select></label>
      ${field("role_claim", "Roles from the claim (optional)", s?.role_claim, 'placeholder="groups" spellcheck="false"')}
      ${field("role_values", "Values and roles", rolesOf(s?.role_values), 'placeholder="pixl-admins=admin, family=member" spellcheck="false"')}
      ${field("scopes", "Scopes", s?.scopes ?? "openid profile email", "required spellcheck=\"false\"")}
      <p class="error" id="provider-error" role="alert"></p>
      <span class="row"><button>${s ? "Save" : "Turn on"}</button>
      ${s ? '<button type="button" id="provider-off">Turn off</button>' : ""}</span>
    </form></section>`;
}

function roleValues(text) {
  const values = {};
  for (const pair of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.lastIndexOf("=");
    values[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return values;
}

export function bindProvider(panel, again) {
  const form = panel.querySelector("#provider-form");
  if (!form) return;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = {
      issuer: form.issuer.value.trim(), client_id: form.client_id.value.trim(), label: form.label.value.trim(),
      create_accounts: form.create_accounts.checked, default_role: form.default_role.value,
      role_claim: form.role_claim.value.trim() || null, role_values: roleValues(form.role_values.value),
      scopes: form.scopes.value.trim(),
    };
    if (form.client_secret.value) body.client_secret = form.client_secret.value;
    try {
      await api.put("/auth/oidc/settings", body);
      toast(`Sign-in with ${body.label} is on`);
      again();
    } catch (error) { panel.querySelector("#provider-error").textContent = error.message; }
  };
  const off = panel.querySelector("#provider-off");
  if (off) {
    off.onclick = async () => {
      if (!(await confirmAction("Turn off sign-in with the identity provider?",
        "People sign in with their passwords only; their links are kept for when it is on again.", { ok: "Turn off" }))) return;
      try { await api.del("/auth/oidc/settings"); toast("Sign-in with the identity provider is off"); } catch (e) { toast(e.message); }
      again();
    };
  }
}

/** Settings › Account: link your own account to your identity at the provider (when one is set up). */
export async function linkSection() {
  const offered = await api.get("/auth/oidc");
  if (!offered.enabled) return "";
  return `<section><h3>Sign-in with ${esc(offered.label)}</h3>
    <p class="muted"><small>Link this account to yours at ${esc(offered.label)}, then sign in with it.</small></p>
    <button type="button" id="link-provider">Link with ${esc(offered.label)}</button></section>`;
}

export function bindLink(panel) {
  const button = panel.querySelector("#link-provider");
  if (!button) return;
  button.onclick = async () => {
    try { location.assign((await api.post("/auth/oidc/link")).url); } catch (error) { toast(error.message); }
  };
}

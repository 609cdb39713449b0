// The update banner: when the owner's opt-in update check (Settings) has found a newer release, name it;
// for a security fix also its severity and the versions it is for, with a link to the release notes.
// Dismissed per version: the next release shows again.

import { api } from "./api.js";
import { esc } from "./ui.js";
import { prefs } from "./prefs.js";

const DISMISSED_KEY = "update.dismissed";

export async function showUpdateBanner() {
  const banner = document.getElementById("update-banner");
  let status;
  try { status = await api.get("/updates"); } catch { return; } // the check is the owner's; nothing to say
  if (!status.enabled || !status.update_available || prefs.get(DISMISSED_KEY) === status.latest) {
    banner.hidden = true;
    return;
  }
  const security = status.severity && status.severity !== "none";
  banner.className = `update-banner${security ? ` security ${status.severity}` : ""}`;
  banner.innerHTML = `<span>${security ? `<b>Security fix (${esc(status.severity)})</b>: ` : ""}PixlStash
    ${esc(status.latest)} is out; this is ${esc(status.current)}.${security && status.affected
      ? ` It fixes versions ${esc(status.affected)}.` : ""}</span>
    ${status.notes_url ? `<a href="${esc(status.notes_url)}" target="_blank" rel="noopener noreferrer">Release notes</a>` : ""}
    <button id="dismiss-update" aria-label="Dismiss the notice of ${esc(status.latest)}">Dismiss</button>`;
  banner.hidden = false;
  banner.querySelector("#dismiss-update").onclick = () => {
    prefs.set(DISMISSED_KEY, status.latest);
    banner.hidden = true;
  };
}

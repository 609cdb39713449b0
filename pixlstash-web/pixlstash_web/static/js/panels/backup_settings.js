// Settings → Backup: the whole library to a folder on the server or a bucket, now (with progress) or on a
// schedule.

import { api } from "../api.js";
import { esc, toast } from "../ui.js";

const size = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

function describe(status) {
  if (status.running) return `Backing up to ${esc(status.target)}…`;
  const at = status.last_finished_at ? new Date(status.last_finished_at).toLocaleString() : "";
  if (status.last_error) return `The last backup (${at}) failed: ${esc(status.last_error)}`;
  if (!status.last) return "No backup yet.";
  const last = status.last;
  const accounts = last.with_accounts ? " It holds the accounts and API keys in clear." : "";
  const problems = last.problems.length ? ` ${last.problems.length} problem(s): ${esc(last.problems.join("; "))}` : "";
  return `Backed up ${size(last.bytes_in_backup)} to ${esc(last.target)} on ${at}`
    + ` (${last.files_written.toLocaleString()} files new, ${size(last.bytes_written)}).${accounts}${problems}`;
}

const isBucket = (place) => place.trim().startsWith("s3://");

/** The section's HTML, or "" for someone who may not back up (not an administrator). */
export async function backupSettingsSection() {
  const status = await api.get("/backups").catch(() => null);
  if (status === null) return "";
  const schedule = status.schedule;
  const folder = schedule.target || status.last?.target || "";
  return `<section id="backup-section"><h3>Backup</h3>
    <p class="muted"><small>The whole library (databases, originals, snapshots) to a folder on the server, such as
      an external disk, or to an S3-compatible bucket (s3://BUCKET/PREFIX). The next backup to the same place
      writes only what is new. Accounts and API keys stay out unless you ask for them: a library restored
      without them starts with first-run setup.</small></p>
    <form id="backup-form" class="list">
      <label>Folder on the server, or s3://BUCKET/PREFIX <input name="target" value="${esc(folder)}" required
        placeholder="/mnt/usb/pixlstash-backup" autocomplete="off"></label>
      <label id="backup-endpoint" ${isBucket(folder) ? "" : "hidden"}>Bucket's endpoint (empty: the library's own bucket's, or AWS S3)
        <input name="endpoint" value="${esc(schedule.endpoint || "")}" type="url"
        placeholder="https://s3.eu-central-003.backblazeb2.com" autocomplete="off"></label>
      <label><input type="checkbox" name="thumbnails" ${schedule.with_thumbnails ? "checked" : ""}> With thumbnails</label>
      <label><input type="checkbox" name="accounts" ${schedule.with_accounts ? "checked" : ""}>
        With accounts and API keys (kept in the backup in clear)</label>
      <button>Back up now</button>
    </form>
    <button id="backup-force" hidden>Replace that backup anyway</button>
    <progress id="backup-progress" max="1" value="0" aria-label="Backup progress" ${status.running ? "" : "hidden"}></progress>
    <p id="backup-state" role="status">${describe(status)}</p>
    <label><input type="checkbox" id="backup-schedule" ${schedule.enabled ? "checked" : ""}>
      Back up there every <input type="number" id="backup-hours" min="1" max="2160" step="1"
      value="${schedule.every_hours}" aria-label="Hours between backups" style="width: 5em"> hours</label>
  </section>`;
}

export function bindBackupSettings(panel) {
  const form = panel.querySelector("#backup-form");
  if (!form) return;
  // The endpoint means something only for a bucket: asked for once the place is one.
  form.target.addEventListener("input", () => {
    panel.querySelector("#backup-endpoint").hidden = !isBucket(form.target.value);
  });
  const bar = panel.querySelector("#backup-progress");
  const force = panel.querySelector("#backup-force");
  const state = panel.querySelector("#backup-state");
  const follow = async () => {
    for (;;) {
      const status = await api.get("/backups");
      bar.hidden = !status.running;
      bar.value = status.total_bytes ? status.done_bytes / status.total_bytes : 0;
      state.innerHTML = describe(status);
      // A backup of more pictures than the library holds is replaced only when the person says so.
      force.hidden = status.running || !/holds a backup of/.test(status.last_error || "");
      if (!status.running || !panel.isConnected) return status;
      await new Promise((resolve) => { setTimeout(resolve, 500); });
    }
  };
  const schedule = () => ({
    enabled: panel.querySelector("#backup-schedule").checked,
    target: form.target.value.trim() || null,
    endpoint: form.endpoint.value.trim() || null,
    every_hours: Number(panel.querySelector("#backup-hours").value) || 24,
    with_thumbnails: form.thumbnails.checked,
    with_accounts: form.accounts.checked,
  });
  const backUp = async (replace) => {
    try {
      await api.post("/backups", {
        target: form.target.value.trim(),
        endpoint: form.endpoint.value.trim() || null,
        with_thumbnails: form.thumbnails.checked,
        with_accounts: form.accounts.checked,
        force: replace,
      });
      const done = await follow();
      toast(done.last_error ? "The backup failed" : "Backup done");
    } catch (error) { toast(error.message); }
  };
  form.onsubmit = (event) => { event.preventDefault(); backUp(false); };
  force.onclick = () => backUp(true);
  const saveSchedule = async () => {
    try {
      const saved = await api.put("/backups/schedule", schedule());
      toast(saved.enabled ? `Backing up every ${saved.every_hours} h` : "Scheduled backups off");
    } catch (error) {
      panel.querySelector("#backup-schedule").checked = false;
      toast(error.message);
    }
  };
  panel.querySelector("#backup-schedule").onchange = saveSchedule;
  panel.querySelector("#backup-hours").onchange = () => { if (schedule().enabled) saveSchedule(); };
  if (!bar.hidden) follow();
}

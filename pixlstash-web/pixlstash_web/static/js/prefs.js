// Each person's own settings in this browser (a sidebar's folded projects, an engine's parameters, the
// insights' and dataset check's choices): kept under the signed-in account's id, so two people signing in
// on one browser each find their own. The one place the UI keeps preferences.

let owner = "anyone";

export const prefs = {
  /** Whose settings from now on (at sign-in: the account's id). */
  useAccount: (userId) => { owner = userId == null ? "anyone" : `u${userId}`; },
  get: (key) => localStorage.getItem(`pixlstash.${owner}.${key}`),
  set: (key, value) => localStorage.setItem(`pixlstash.${owner}.${key}`, value),
  remove: (key) => localStorage.removeItem(`pixlstash.${owner}.${key}`),
};

// A heal's timeline: when the connection was lost and when each step back happened, in the
// browser console and on window.parleyHeal (for tests and bug reports), so that a slow heal
// shows where its time went: signalling lost, livekit-client's attempts, a fresh token, the
// signalling and media connections back, the camera published, the first frame of each
// remote video.

export interface HealMark {
  what: string;
  /** Date.now() when it happened. */
  at: number;
}

declare global {
  interface Window {
    /** The latest heal's timeline (oldest first). */
    parleyHeal?: HealMark[];
  }
}

/** At most this many marks per heal: a long outage retries often. */
const maxMarks = 60;

let since = 0; // when the latest heal began; 0 before the first
let active = false; // the meeting is not back yet
let marks: HealMark[] = [];

/** Notes a step of the heal under way; with begin, a loss that starts a new timeline unless
 * one is under way already. Steps outside a heal are not noted. */
export function healMark(what: string, begin = false): void {
  const at = Date.now();
  if (begin && !active) {
    active = true;
    since = at;
    marks = [];
    window.parleyHeal = marks;
  }
  if (since === 0 || marks.length >= maxMarks) return;
  marks.push({ what, at });
  console.info(`parley heal +${at - since} ms: ${what}`);
}

/** Notes that the meeting is connected again; the first remote frames are still noted. */
export function healBack(what: string): void {
  if (!active) return;
  healMark(what);
  active = false;
}

/** Whether a heal began within the last minute, so that what follows it (remote video) is
 * worth noting. */
export function healNoted(): boolean {
  return since !== 0 && Date.now() - since < 60 * 1000;
}

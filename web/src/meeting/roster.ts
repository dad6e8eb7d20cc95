import type { Participant } from '../api/types';

// After a heal, whether this page's LiveKit session missed someone who is in the meeting.
// When a cluster node is lost, a session that livekit-client restarted on another node can
// be connected yet never told of a person who joined after it: the others see it, it sees
// nobody. Parley's live state (webhooks and the reconciler) lists that person; the page
// compares the two for a while after each heal and rejoins with a fresh session if one
// stays missing.

/** How often, and for how long after a heal, the page compares the two lists. */
export const rosterCheckEveryMs = 3000;
export const rosterCheckForMs = 2 * 60 * 1000;

/** How many checks in a row one person must be missing before the page rejoins: a person who
 * has just joined may reach Parley's state a moment before this page hears of them. */
export const rosterMissingChecks = 3;

/** At most one rejoin for a missing person in this long: Parley's list can be stale for a
 * while (a lost webhook waits for the reconciler), and a rejoin interrupts the meeting. */
export const rosterRejoinMs = 2 * 60 * 1000;

/** The sessions Parley lists as joined that this LiveKit session should know of and does not:
 * joined no earlier than this session (by the server's clock, so the browser's does not matter), never
 * seen in this LiveKit room (a person who came and went unseen by a stale state would
 * otherwise count), and not this page's own identity. Empty while Parley does not yet list
 * this session, since there is then nothing to compare with. */
export function missingSessions(items: Participant[], ownSid: string | undefined, seenSids: ReadonlySet<string>): string[] {
  const own = items.find((p) => p.sid !== undefined && p.sid === ownSid);
  if (!own?.joinedAt) return [];
  const since = Date.parse(own.joinedAt);
  return items
    .filter(
      (p) =>
        p.state === 'joined' &&
        p.sid !== undefined &&
        p.identity !== own.identity &&
        !seenSids.has(p.sid) &&
        p.joinedAt !== null &&
        Date.parse(p.joinedAt) >= since,
    )
    .map((p) => p.sid as string);
}

/** Counts, per missing session, the checks in a row it was missing; returns the sessions that
 * reached rosterMissingChecks. A session that turns up (or leaves) starts again from zero. */
export function trackMissing(streaks: Map<string, number>, missing: string[]): string[] {
  const now = new Set(missing);
  for (const sid of [...streaks.keys()]) if (!now.has(sid)) streaks.delete(sid);
  const due: string[] = [];
  for (const sid of missing) {
    const n = (streaks.get(sid) ?? 0) + 1;
    streaks.set(sid, n);
    if (n >= rosterMissingChecks) due.push(sid);
  }
  return due;
}

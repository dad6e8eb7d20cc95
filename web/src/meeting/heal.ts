import type { ReconnectPolicy } from 'livekit-client';

// When a meeting connection ends, whether it is over or should heal by itself, and how fast to retry.

/** Disconnect reasons (livekit-client's DisconnectReason names) that end the meeting for good:
 * the user left, a moderator removed them or ended the meeting, or another tab took over.
 * Everything else (a LiveKit restart, a lost network, a signalling failure) heals by rejoining. */
const finalReasons = new Set([
  'CLIENT_INITIATED',
  'DUPLICATE_IDENTITY',
  'PARTICIPANT_REMOVED',
  'ROOM_DELETED',
  'ROOM_CLOSED',
  'USER_REJECTED',
  'USER_UNAVAILABLE',
]);

export function isFinalDisconnect(reason: string | undefined): boolean {
  return reason !== undefined && finalReasons.has(reason);
}

/** API answers to a rejoin that no retry can change: banned, the room gone, no longer invited. */
const finalJoinCodes = new Set(['banned', 'room_not_found', 'not_invited', 'guests_not_allowed', 'login_required', 'forbidden']);

/** Whether a refused rejoin (HTTP status and error code) ends the healing. Network failures
 * (status 0), 5xx, 429 and a full or locked room are worth retrying. */
export function isFinalJoinError(status: number, code: string): boolean {
  if (finalJoinCodes.has(code)) return true;
  return status === 401 || status === 403 || status === 404;
}

/** After how long a meeting that is still healing says so more plainly (it keeps trying). */
export const healWindowMs = 60 * 1000;

/** The pause before rejoin attempt n (0-based): none for the first (Parley holds a join while
 * LiveKit restarts and answers it once LiveKit and the meeting's room are back, so waiting
 * here would only add to the outage), then doubling from 250 ms to at most 8 s, with jitter
 * so that everyone in a meeting does not rejoin in the same instant. */
export function healDelay(attempt: number, random: () => number = Math.random): number {
  if (attempt === 0) return 0;
  const base = Math.min(8000, 250 * 2 ** (attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** livekit-client's own attempts (ms before each): a resume, or a restart of the session with
 * the same token once LiveKit asks for one. Parley holds a signalling request while LiveKit
 * restarts, so the first attempt reaches the new LiveKit as soon as it can take it; that
 * LiveKit has forgotten the session and answers the resume with a leave, and the restart
 * must follow at once (the second delay), not after a pause. Later ones back off for a
 * network that is away; when they run out the app rejoins with a fresh token (healDelay). */
export const resumeDelays = [0, 0, 250, 500, 1000, 2000];

/** How long livekit-client keeps trying with its token: Parley holds each attempt for up to
 * 10 s while LiveKit is away, so without this bound a long outage would be spent in a few
 * held attempts instead of in the app's rejoin with fresh tokens. */
export const resumeForMs = 10 * 1000;

/** The ReconnectPolicy over resumeDelays, with ±25 % jitter (livekit-client's default adds up
 * to a whole second from the third try on, which is most of a quick restart's outage). */
export function resumePolicy(random: () => number = Math.random): ReconnectPolicy {
  return {
    nextRetryDelayInMs: ({ retryCount, elapsedMs }) =>
      retryCount < resumeDelays.length && elapsedMs < resumeForMs ? Math.round(resumeDelays[retryCount] * (0.75 + random() * 0.5)) : null,
  };
}

import { describe, expect, it } from 'vitest';
import { healDelay, isFinalDisconnect, isFinalJoinError, resumeDelays, resumeForMs, resumePolicy } from './heal';

describe('healing a meeting', () => {
  it('ends only on a real end', () => {
    expect(isFinalDisconnect('PARTICIPANT_REMOVED')).toBe(true);
    expect(isFinalDisconnect('ROOM_DELETED')).toBe(true);
    expect(isFinalDisconnect('UNKNOWN_REASON')).toBe(false);
    expect(isFinalDisconnect(undefined)).toBe(false);
    expect(isFinalJoinError(403, 'banned')).toBe(true);
    expect(isFinalJoinError(503, 'livekit_unavailable')).toBe(false);
    expect(isFinalJoinError(0, 'network_error')).toBe(false);
    expect(isFinalJoinError(429, 'rate_limited')).toBe(false);
  });

  it('backs off to at most 8 s between rejoins', () => {
    expect(healDelay(0, () => 1)).toBe(0); // Parley holds the first rejoin until LiveKit is back
    expect(healDelay(1, () => 0.5)).toBe(250);
    expect(healDelay(20, () => 1)).toBe(10000); // 8 s + 25 % jitter
  });

  it("gives livekit-client's own attempts short, jittered delays, then stops", () => {
    const low = resumePolicy(() => 0);
    const high = resumePolicy(() => 1);
    resumeDelays.forEach((d, i) => {
      expect(low.nextRetryDelayInMs({ retryCount: i, elapsedMs: 0 })).toBe(Math.round(d * 0.75));
      expect(high.nextRetryDelayInMs({ retryCount: i, elapsedMs: 0 })).toBe(Math.round(d * 1.25));
    });
    expect(low.nextRetryDelayInMs({ retryCount: resumeDelays.length, elapsedMs: 0 })).toBeNull();
    expect(low.nextRetryDelayInMs({ retryCount: 1, elapsedMs: resumeForMs })).toBeNull(); // then the app rejoins
  });
});

import { describe, expect, it } from 'vitest';
import type { Participant } from '../api/types';
import { missingSessions, rosterMissingChecks, trackMissing } from './roster';

const p = (identity: string, sid: string, joinedAt: string, state: Participant['state'] = 'joined'): Participant => ({
  identity,
  sid,
  name: identity,
  role: 'participant',
  state,
  joinedAt,
  tracks: [],
});

describe('missingSessions', () => {
  const me = p('alice', 'PA_new', '2026-12-06T10:00:10.000Z');
  it('names a session that joined after this one and was never seen', () => {
    const bob = p('bob', 'PA_bob2', '2026-12-06T10:00:11.000Z');
    expect(missingSessions([me, bob], 'PA_new', new Set())).toEqual(['PA_bob2']);
    expect(missingSessions([me, bob], 'PA_new', new Set(['PA_bob2']))).toEqual([]);
  });
  it('ignores sessions from before this one, those that left, and this identity', () => {
    const stale = p('bob', 'PA_bob1', '2026-12-06T09:59:00.000Z');
    const gone = p('carol', 'PA_c', '2026-12-06T10:00:12.000Z', 'left');
    const oldMe = p('alice', 'PA_old', '2026-12-06T10:00:11.000Z');
    expect(missingSessions([me, stale, gone, oldMe], 'PA_new', new Set())).toEqual([]);
  });
  it('compares nothing until Parley lists this session', () => {
    const bob = p('bob', 'PA_bob2', '2026-12-06T10:00:11.000Z');
    expect(missingSessions([bob], 'PA_new', new Set())).toEqual([]);
  });
});

describe('trackMissing', () => {
  it('is due after enough checks in a row, and starts again when the session turns up', () => {
    const streaks = new Map<string, number>();
    for (let i = 1; i < rosterMissingChecks; i++) expect(trackMissing(streaks, ['s'])).toEqual([]);
    expect(trackMissing(streaks, [])).toEqual([]);
    expect(trackMissing(streaks, ['s'])).toEqual([]);
    for (let i = 2; i < rosterMissingChecks; i++) trackMissing(streaks, ['s']);
    expect(trackMissing(streaks, ['s'])).toEqual(['s']);
  });
});

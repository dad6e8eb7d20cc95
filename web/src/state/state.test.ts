import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  disconnectMessage,
  encodeMessage,
  initialMeeting,
  joinErrorMessage,
  meetingReducer,
  sortParticipants,
} from './meeting';
import { canPublishSource, controlsFor, fromLiveKit, moderationFor } from './permissions';

describe('permissions to controls', () => {
  it('offers nothing before the grant is known', () => {
    expect(controlsFor(undefined)).toEqual({ microphone: false, camera: false, screenShare: false, chat: false, raiseHand: false });
  });
  it('treats an empty source list as every source', () => {
    const c = controlsFor({ canPublish: true, canSubscribe: true, canPublishData: true, canPublishSources: [] });
    expect(c).toEqual({ microphone: true, camera: true, screenShare: true, chat: true, raiseHand: true });
  });
  it('limits to the listed sources', () => {
    const p = fromLiveKit({ canPublish: true, canPublishData: false, canPublishSources: [2] });
    expect(p?.canPublishSources).toEqual(['microphone']);
    expect(controlsFor(p)).toEqual({ microphone: true, camera: false, screenShare: false, chat: false, raiseHand: false });
  });
  it('turns every media control off without canPublish', () => {
    const p = { canPublish: false, canSubscribe: true, canPublishData: true, canPublishSources: [] };
    expect(canPublishSource(p, 'camera')).toBe(false);
    expect(controlsFor(p).chat).toBe(true);
  });
  it('maps livekit numeric and string sources', () => {
    expect(fromLiveKit({ canPublish: true, canPublishSources: [1, 3, 4, 'MICROPHONE', 99] })?.canPublishSources).toEqual([
      'camera',
      'screen_share',
      'screen_share_audio',
      'microphone',
    ]);
  });
  it('gives moderation to owners, moderators and admins', () => {
    expect(moderationFor('owner', false)).toEqual({ moderate: true, promote: true });
    expect(moderationFor('moderator', false)).toEqual({ moderate: true, promote: false });
    expect(moderationFor('participant', false)).toEqual({ moderate: false, promote: false });
    expect(moderationFor('guest', true)).toEqual({ moderate: true, promote: true });
  });
});

describe('meetingReducer', () => {
  const msg = (id: string) => ({ id, from: 'a', name: 'A', text: 'hi ' + id, at: 1 });
  it('appends chat, dedupes by id and counts unread', () => {
    let s = meetingReducer(initialMeeting, { type: 'chat', message: msg('1'), seen: false });
    s = meetingReducer(s, { type: 'chat', message: msg('1'), seen: false });
    s = meetingReducer(s, { type: 'chat', message: msg('2'), seen: true });
    expect(s.chat.map((m) => m.id)).toEqual(['1', '2']);
    expect(s.unread).toBe(1);
    expect(meetingReducer(s, { type: 'read' }).unread).toBe(0);
  });
  it('raises and lowers hands, and drops the hand of who left', () => {
    let s = meetingReducer(initialMeeting, { type: 'hand', identity: 'b', raised: true, at: 5 });
    expect(s.hands).toEqual({ b: 5 });
    expect(meetingReducer(s, { type: 'hand', identity: 'b', raised: true, at: 9 })).toBe(s);
    expect(meetingReducer(s, { type: 'hand', identity: 'b', raised: false, at: 9 }).hands).toEqual({});
    s = meetingReducer(s, { type: 'left', identity: 'b' });
    expect(s.hands).toEqual({});
  });
  it('tracks recording', () => {
    expect(meetingReducer(initialMeeting, { type: 'recording', active: true }).recording).toBe(true);
  });
});

describe('participant list order', () => {
  it('puts you first, then raised hands in order, then speakers, then names', () => {
    const e = (identity: string, o: Partial<{ isLocal: boolean; speaking: boolean }> = {}) => ({
      identity,
      name: identity,
      isLocal: false,
      speaking: false,
      ...o,
    });
    const got = sortParticipants([e('zed'), e('bob'), e('amy', { speaking: true }), e('me', { isLocal: true }), e('hal'), e('ivy')], {
      ivy: 2,
      hal: 1,
    });
    expect(got.map((p) => p.identity)).toEqual(['me', 'hal', 'ivy', 'amy', 'bob', 'zed']);
  });
});

describe('data messages', () => {
  it('round-trips and rejects malformed payloads', () => {
    expect(decodeMessage('chat', encodeMessage({ id: 'x', text: 'hello' }))).toEqual({ topic: 'chat', id: 'x', text: 'hello' });
    expect(decodeMessage('chat', encodeMessage({ text: '  ' }))).toBeUndefined();
    expect(decodeMessage('hand', encodeMessage({ raised: true }))).toEqual({ topic: 'hand', raised: true });
    expect(decodeMessage('hand', new TextEncoder().encode('nope'))).toBeUndefined();
    expect(decodeMessage('other', encodeMessage({ raised: true }))).toBeUndefined();
  });
});

describe('messages', () => {
  it('explains removal and refusals', () => {
    expect(disconnectMessage('PARTICIPANT_REMOVED')).toMatch(/removed .* by a moderator/);
    expect(joinErrorMessage('room_full', 'x')).toMatch(/full/);
    expect(joinErrorMessage('room_locked', 'x')).toMatch(/locked/);
    expect(joinErrorMessage('banned', 'x')).toMatch(/banned/);
    expect(joinErrorMessage('livekit_unavailable', 'x')).toMatch(/unavailable/);
    expect(joinErrorMessage('something_else', 'server says')).toBe('server says');
  });
});

describe('recordingActiveFromEvent', () => {
  it('reads the status from the event data, and ignores other events', async () => {
    const { recordingActiveFromEvent } = await import('./meeting');
    expect(recordingActiveFromEvent({ type: 'recording_status', data: { status: 'active' } })).toBe(true);
    expect(recordingActiveFromEvent({ type: 'recording_status', data: { status: 'complete' } })).toBe(false);
    expect(recordingActiveFromEvent({ type: 'participant_joined' })).toBeUndefined();
  });
});

describe('participantMeta', () => {
  it('reads role and userId from token metadata', async () => {
    const { participantMeta } = await import('./meeting');
    expect(participantMeta('{"role":"owner","userId":"u1"}')).toEqual({ role: 'owner', userId: 'u1' });
    expect(participantMeta('{"role":"guest"}')).toEqual({ role: 'guest', userId: undefined });
    expect(participantMeta('not json')).toEqual({});
    expect(participantMeta(undefined)).toEqual({});
  });
});

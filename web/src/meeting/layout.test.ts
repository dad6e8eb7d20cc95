import { describe, expect, it } from 'vitest';
import { chooseFocus, fitGrid } from './layout';
import { healDelay, isFinalDisconnect, isFinalJoinError } from './heal';

describe('fitGrid', () => {
  it('gives one tile the whole width of a wide box', () => {
    expect(fitGrid(1, 1280, 720, 8)).toEqual({ cols: 1, rows: 1, width: 1280, height: 720 });
  });
  it('puts two people side by side on a landscape screen and stacked on a phone', () => {
    expect(fitGrid(2, 1280, 640).cols).toBe(2);
    expect(fitGrid(2, 375, 600).cols).toBe(1);
  });
  it('fills a 3x3 grid for nine people', () => {
    const g = fitGrid(9, 1280, 720);
    expect([g.cols, g.rows]).toEqual([3, 3]);
  });
  it('survives an empty box', () => {
    expect(fitGrid(3, 0, 0).cols).toBe(1);
  });
});

describe('chooseFocus', () => {
  const base = { screens: [], people: ['me', 'a', 'b'], local: 'me', speakerView: false };
  it('shows a grid without shares, pins or speaker view', () => {
    expect(chooseFocus(base)).toEqual({ kind: 'grid' });
  });
  it('makes a screen share the main tile', () => {
    expect(chooseFocus({ ...base, screens: ['a'] })).toEqual({ kind: 'screen', identity: 'a' });
  });
  it('lets a pin win over a screen share', () => {
    expect(chooseFocus({ ...base, screens: ['a'], pinned: 'person:b' })).toEqual({ kind: 'person', identity: 'b' });
  });
  it('ignores a pin of someone who left', () => {
    expect(chooseFocus({ ...base, pinned: 'person:gone' })).toEqual({ kind: 'grid' });
  });
  it('follows the last speaker in speaker view, never yourself', () => {
    expect(chooseFocus({ ...base, speakerView: true, lastSpeaker: 'b' })).toEqual({ kind: 'person', identity: 'b' });
    expect(chooseFocus({ ...base, speakerView: true, lastSpeaker: 'me' })).toEqual({ kind: 'person', identity: 'a' });
  });
});

describe('healing', () => {
  it('ends only on a real end', () => {
    for (const r of ['PARTICIPANT_REMOVED', 'ROOM_DELETED', 'CLIENT_INITIATED', 'DUPLICATE_IDENTITY']) expect(isFinalDisconnect(r)).toBe(true);
    for (const r of [undefined, 'UNKNOWN_REASON', 'SERVER_SHUTDOWN', 'SIGNAL_CLOSE', 'JOIN_FAILURE', 'CONNECTION_TIMEOUT']) expect(isFinalDisconnect(r)).toBe(false);
  });
  it('retries a rejoin through outages but not past a ban', () => {
    expect(isFinalJoinError(0, 'network')).toBe(false);
    expect(isFinalJoinError(503, 'livekit_unavailable')).toBe(false);
    expect(isFinalJoinError(422, 'room_full')).toBe(false);
    expect(isFinalJoinError(403, 'banned')).toBe(true);
    expect(isFinalJoinError(404, 'room_not_found')).toBe(true);
  });
  it('backs off to at most about 8 s', () => {
    const mid = () => 0.5;
    expect(healDelay(0, mid)).toBe(0);
    expect(healDelay(1, mid)).toBe(250);
    expect(healDelay(4, mid)).toBe(2000);
    expect(healDelay(30, mid)).toBe(8000);
  });
});

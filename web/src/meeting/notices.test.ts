import { describe, expect, it } from 'vitest';
import { describePermissionChange } from './notices';

const all = { microphone: true, camera: true, screenShare: true, chat: true, raiseHand: true };

describe('describePermissionChange', () => {
  it('says nothing when nothing changed', () => {
    expect(describePermissionChange(all, all)).toBeUndefined();
  });
  it('names what was taken away', () => {
    expect(describePermissionChange(all, { ...all, screenShare: false, camera: false })).toBe(
      'A moderator changed your permissions: you can no longer use your camera and share your screen.',
    );
  });
  it('names what was given', () => {
    expect(describePermissionChange({ ...all, microphone: false }, all)).toBe('A moderator changed your permissions: you can now use your microphone.');
  });
});

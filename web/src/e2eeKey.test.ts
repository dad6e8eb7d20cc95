import { describe, expect, it } from 'vitest';
import { keyFromLocation, newKey, withKey } from './e2eeKey';

describe('meeting keys in the link fragment', () => {
  it('reads the key from the fragment', () => {
    expect(keyFromLocation('#key=abcdefghijklmnopqrstuvwxyz')).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(keyFromLocation('')).toBeNull();
    expect(keyFromLocation('#other=1')).toBeNull();
    expect(keyFromLocation('#key=short')).toBeNull(); // too short to be one of ours: not encrypted
  });

  it('makes keys that travel in a link unchanged', () => {
    const k = newKey();
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newKey()).not.toBe(k);
    expect(keyFromLocation(new URL(withKey('https://meet.example.com/r/abc?invite=x', k)).hash)).toBe(k);
  });

  it('leaves links of unencrypted meetings alone', () => {
    expect(withKey('https://meet.example.com/r/abc', null)).toBe('https://meet.example.com/r/abc');
  });
});

import { describe, expect, it } from 'vitest';
import type { Recording } from '../api/types';
import { downloadName } from './recordingFiles';

const rec = { id: 'r1', room: 'lkm-g6jq-ngv', backend: 'builtin', status: 'complete', startedBy: 'u', startedAt: '2026-12-02T10:15:30Z' } as Recording;

describe('downloadName', () => {
  it('names the file after the room title, as MP4 when the server says so', () => {
    expect(downloadName({ ...rec, roomTitle: 'Weekly standup' }, 'video/mp4', 'attachment; filename="lkm-g6jq-ngv_r1.mp4"')).toBe('Weekly-standup-2026-12-02-10-15.mp4');
  });
  it('falls back to the content type, then to MP4', () => {
    expect(downloadName(rec, 'video/webm', null)).toBe('lkm-g6jq-ngv-2026-12-02-10-15.webm');
    expect(downloadName({ ...rec, roomTitle: '' }, null, null)).toBe('lkm-g6jq-ngv-2026-12-02-10-15.mp4');
  });
});

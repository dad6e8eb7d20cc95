import { api } from '../api';
import type { List, Recording, Room } from '../api/types';

/** Lists recordings: GET /api/recordings answers every recording to admins and, to users, those of
 * the rooms they own or owned (deleted rooms included); the rooms they only moderate are added room by room. */
export async function loadRecordingList(user: { id: string; role: string } | null | undefined, room: string): Promise<Recording[]> {
  if (room) return (await api.get<List<Recording>>(`/api/recordings?room=${encodeURIComponent(room)}`)).items ?? [];
  const own = (await api.get<List<Recording>>('/api/recordings')).items ?? [];
  if (user?.role === 'admin') return own;
  const userId = user?.id;
  const rooms = (await api.get<List<Room>>('/api/rooms')).items ?? [];
  const moderated = rooms.filter((r) => r.ownerId !== userId && userId && r.moderators?.includes(userId));
  const lists = await Promise.all(
    moderated.map((r) => api.get<List<Recording>>(`/api/recordings?room=${encodeURIComponent(r.name)}`).then((l) => l.items ?? [], () => [])),
  );
  const byId = new Map<string, Recording>();
  for (const r of [...own, ...lists.flat()]) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

const extensions: Record<string, string> = { 'video/mp4': 'mp4', 'video/webm': 'webm', 'audio/ogg': 'ogg', 'video/x-matroska': 'mkv' };

/** The file name a download gets: the room's title and the start time, with the extension of
 * the type the server sent (the file name in its Content-Disposition, else its Content-Type). */
export function downloadName(r: Recording, contentType: string | null, disposition: string | null): string {
  const fromServer = disposition?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i)?.[1];
  const ext = fromServer?.match(/\.([a-z0-9]{2,5})$/i)?.[1]?.toLowerCase() ?? extensions[(contentType ?? '').split(';')[0].trim()] ?? 'mp4';
  const base = (r.roomTitle || r.room).replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'recording';
  return `${base}-${r.startedAt.slice(0, 16).replace(/[:T]/g, '-')}.${ext}`;
}

/** Fetches a recording with the bearer token (neither a <video> nor a link can send headers)
 * and saves it under downloadName. */
export async function downloadRecording(r: Recording): Promise<void> {
  const res = await api.raw('GET', `/api/recordings/${encodeURIComponent(r.id)}/file`);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = downloadName(r, res.headers.get('Content-Type') || blob.type, res.headers.get('Content-Disposition'));
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

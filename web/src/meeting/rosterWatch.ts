import { ConnectionState, RoomEvent, type Room } from 'livekit-client';
import { api, path } from '../api';
import type { List, Participant } from '../api/types';
import { missingSessions, rosterCheckEveryMs, rosterCheckForMs, trackMissing } from './roster';

/** Every LiveKit session id this page's Rooms have seen, across restarts and rejoins. */
export function rememberSessions(r: Room, seen: Set<string>) {
  r.on(RoomEvent.ParticipantConnected, (p) => seen.add(p.sid));
}

/** For rosterCheckForMs after a heal, compares Parley's list of the meeting's participants
 * with the Room's and calls onMissing (once) when someone who joined after this session has
 * been missing from it for rosterMissingChecks checks in a row. Stops early when the list
 * cannot be read (a guest may not read it) or when the returned function is called. */
export function watchRoster(r: Room, roomName: string, seen: Set<string>, onMissing: (sids: string[]) => void): () => void {
  const until = Date.now() + rosterCheckForMs;
  const streaks = new Map<string, number>();
  let stopped = false;
  let timer = 0;
  const check = async () => {
    if (stopped || Date.now() > until) return;
    if (r.state === ConnectionState.Connected) {
      let items: Participant[];
      try {
        items = (await api.get<List<Participant>>(path`/api/rooms/${roomName}/participants`)).items ?? [];
      } catch {
        return;
      }
      if (stopped) return;
      // After the read, so that who arrived meanwhile counts as seen. Those present when
      // this session joined come with no ParticipantConnected (rememberSessions).
      for (const p of r.remoteParticipants.values()) seen.add(p.sid);
      const due = trackMissing(streaks, missingSessions(items, r.localParticipant.sid, seen));
      if (due.length > 0) {
        stopped = true;
        onMissing(due);
        return;
      }
    }
    timer = window.setTimeout(() => void check(), rosterCheckEveryMs);
  };
  timer = window.setTimeout(() => void check(), rosterCheckEveryMs);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api';
import type { EventType, LiveEvent } from '../api/types';

// The event names the server sends (every event is named; "dropped" is handled apart).
const eventTypes: EventType[] = [
  'room_started',
  'room_finished',
  'participant_joined',
  'participant_left',
  'track_published',
  'track_unpublished',
  'track_muted',
  'recording_status',
  'livekit_state',
  'lobby_changed',
  'breakouts_changed',
];

/** What a stream hands its listener: a server event, or 'open' once the stream (re)connects. */
export type AdminEvent = LiveEvent | { type: 'open' };

/** A stream's state. 'refused': the server closed it because the caller may no longer follow
 * it (demoted, no longer a moderator, the room deleted); it is not reopened. A revoked session
 * goes to sign-in instead (the API client's onSessionLost). */
export type StreamStatus = 'connecting' | 'live' | 'down' | 'refused';

/** What the stream's route answers a plain request now: 'ok' (open it again), 'refused' with
 * the API's message, or 'retry' (network away, server busy). A 401 goes through the client's
 * refresh, and to sign-in when the session is over. */
export async function probeStream(streamPath: string): Promise<{ kind: 'ok' | 'retry' } | { kind: 'refused'; message: string }> {
  const abort = new AbortController();
  try {
    await api.raw('GET', streamPath, undefined, { signal: abort.signal });
    return { kind: 'ok' };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) return { kind: 'refused', message: e.message };
    return { kind: 'retry' };
  } finally {
    abort.abort(); // the answer's head is all the probe needs: end the stream it opened
  }
}

/** Subscribes to a Server-Sent Events stream of the API (/api/admin/events, /api/rooms/{name}/events).
 * EventSource cannot send headers, so the access token goes in ?access_token=; on error the stream
 * is reopened with a freshly refreshed token. When the server closes the stream (`event: closed`:
 * the caller's rights changed), the route is asked again with a plain request, whose status
 * EventSource cannot show: a revoked session goes to sign-in, a lost right stops the stream
 * (status 'refused', onRefused gets the server's message), and a stream still allowed reopens.
 * A null path subscribes to nothing. */
export function useEventStream(
  streamPath: string | null,
  onEvent: (e: AdminEvent) => void,
  onRefused?: (message: string) => void,
): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const handler = useRef({ onEvent, onRefused });
  handler.current = { onEvent, onRefused };

  useEffect(() => {
    if (!streamPath) return;
    let es: EventSource | null = null;
    let timer = 0;
    let closed = false;
    let failures = 0;

    const open = async () => {
      const token = await api.freshAccessToken();
      if (closed) return;
      if (!token) {
        setStatus('down');
        return;
      }
      es = new EventSource(`${streamPath}${streamPath.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`);
      const receive = (m: MessageEvent) => {
        try {
          handler.current.onEvent(JSON.parse(m.data) as LiveEvent);
        } catch {
          // not the server's JSON: nothing to act on
        }
      };
      es.onopen = () => {
        failures = 0;
        setStatus('live');
        handler.current.onEvent({ type: 'open' });
      };
      for (const n of eventTypes) es.addEventListener(n, receive as EventListener);
      const stop = () => {
        if (!es) return false; // already reopening
        // The browser would retry with the same (maybe expired) token: reopen ourselves instead.
        es.close();
        es = null;
        setStatus('down');
        failures++;
        return true;
      };
      const retryLater = () => {
        timer = window.setTimeout(open, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      };
      es.onerror = () => {
        if (!stop()) return;
        // A stream cannot tell 401 apart from other failures: a probe refreshes the token only on a real 401.
        if (failures === 2) void api.get('/api/auth/me').catch(() => undefined);
        retryLater();
      };
      es.addEventListener('dropped', () => stop() && retryLater()); // dropped for falling behind
      es.addEventListener('closed', () => {
        if (!stop()) return;
        void probeStream(streamPath).then((p) => {
          if (closed) return;
          if (p.kind === 'refused') {
            setStatus('refused');
            handler.current.onRefused?.(p.message);
          } else if (p.kind === 'ok') void open();
          else retryLater();
        });
      });
    };
    void open();
    return () => {
      closed = true;
      clearTimeout(timer);
      es?.close();
    };
  }, [streamPath]);
  return status;
}

/** The admin dashboard's stream of every state change. */
export function useAdminEvents(onEvent: (e: AdminEvent) => void, onRefused?: (message: string) => void) {
  return useEventStream('/api/admin/events', onEvent, onRefused);
}

/** Calls fn at most once per `ms`, trailing: bursts of events cause one refetch. */
export function debounce(fn: () => void, ms: number): (() => void) & { cancel(): void } {
  let t: ReturnType<typeof setTimeout> | undefined;
  const d = () => {
    if (t) clearTimeout(t);
    t = setTimeout(() => {
      t = undefined;
      fn();
    }, ms);
  };
  d.cancel = () => t && clearTimeout(t);
  return d;
}

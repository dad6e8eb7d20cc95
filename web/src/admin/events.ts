import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
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

/** Subscribes to a Server-Sent Events stream of the API (/api/admin/events, /api/rooms/{name}/events).
 * EventSource cannot send headers, so the access token goes in ?access_token=; on error the stream
 * is reopened with a freshly refreshed token. A null path subscribes to nothing. */
export function useEventStream(streamPath: string | null, onEvent: (e: AdminEvent) => void): 'connecting' | 'live' | 'down' {
  const [status, setStatus] = useState<'connecting' | 'live' | 'down'>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;

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
          handler.current(JSON.parse(m.data) as LiveEvent);
        } catch {
          // not the server's JSON: nothing to act on
        }
      };
      es.onopen = () => {
        failures = 0;
        setStatus('live');
        handler.current({ type: 'open' });
      };
      for (const n of eventTypes) es.addEventListener(n, receive as EventListener);
      const reopen = () => {
        if (!es) return; // already reopening
        // The browser would retry with the same (maybe expired) token: reopen ourselves instead.
        es?.close();
        es = null;
        setStatus('down');
        failures++;
        // A stream cannot tell 401 apart from other failures: a probe refreshes the token only on a real 401.
        if (failures === 2) void api.get('/api/auth/me').catch(() => undefined);
        timer = window.setTimeout(open, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      };
      es.onerror = reopen;
      es.addEventListener('dropped', reopen); // the server dropped us for falling behind
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
export function useAdminEvents(onEvent: (e: AdminEvent) => void) {
  return useEventStream('/api/admin/events', onEvent);
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

import { useEffect, useRef, useState } from 'react';
import { api } from '../api';

// Event names the backend may use with "event:" lines; unnamed events arrive as "message".
const namedEvents = [
  'participant_joined',
  'participant_left',
  'track_published',
  'track_unpublished',
  'track_muted',
  'track_unmuted',
  'room_started',
  'room_finished',
  'recording',
  'recording_status',
  'livekit',
  'livekit_state',
  'state',
  'dropped',
];

export interface AdminEvent {
  type: string;
  room?: string;
  participant?: unknown;
  [k: string]: unknown;
}

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
        let e: AdminEvent = { type: m.type };
        try {
          const v = JSON.parse(m.data);
          if (v && typeof v === 'object') e = { type: m.type, ...v };
        } catch {
          // keep-alive or non-JSON payload: still a reason to refresh
        }
        handler.current(e);
      };
      es.onopen = () => {
        failures = 0;
        setStatus('live');
        handler.current({ type: 'open' });
      };
      es.onmessage = receive;
      for (const n of namedEvents) es.addEventListener(n, receive as EventListener);
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

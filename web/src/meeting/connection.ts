import { useEffect, useRef, useState } from 'react';
import {
  ConnectionError,
  ConnectionErrorReason,
  ConnectionState,
  DisconnectReason,
  Room,
  RoomEvent,
  setLogLevel,
  Track,
  TrackEvent,
  VideoPresets,
  type RemoteParticipant,
  type RemoteTrack,
  type ScreenShareCaptureOptions,
} from 'livekit-client';
import type { JoinResponse } from '../api/types';
import { ApiError } from '../api';
import { disconnectMessage, joinErrorMessage } from '../state/meeting';
import { controlsFor, fromLiveKit } from '../state/permissions';
import { errorText, lowResRequested } from '../ui';
import { encryptionFor } from './e2ee';
import { healDelay, healWindowMs, isFinalDisconnect, isFinalJoinError, resumePolicy } from './heal';
import { healBack, healMark, healNoted } from './healLog';
import { rosterRejoinMs } from './roster';
import { rememberSessions, watchRoster } from './rosterWatch';
import { t } from '../i18n';

declare global {
  interface Window {
    /** The live LiveKit room, for tests (they disconnect it before closing the browser). */
    parleyRoom?: Room;
  }
}

// livekit-client logs expected events (a data channel closing when a moderator removes you)
// as console errors; the app reports real failures itself. localStorage parley.debug=1 shows them.
setLogLevel(localStorage.getItem('parley.debug') === '1' ? 'debug' : 'silent');

/** How a screen is captured: no audio, not this tab; at ?lowres=1 small and slow, like the camera. */
export function screenShareOptions(): ScreenShareCaptureOptions {
  const small = lowResRequested() ? { resolution: { width: 640, height: 360, frameRate: 5 } } : {};
  return { audio: false, selfBrowserSurface: 'exclude', ...small };
}

/** What the user chose to send; kept across rejoins so a healed meeting sends the same. */
export interface Choices {
  video: boolean;
  audio: boolean;
  screen?: boolean;
  videoDeviceId?: string;
  audioDeviceId?: string;
  audioOutputId?: string;
}

export type Phase =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; attempt: number; why?: string; long?: boolean }
  | { kind: 'ended'; reason: string; message: string }
  | { kind: 'failed'; message: string };

function connectFailure(e: unknown): string {
  if (e instanceof ConnectionError) {
    if (e.reason === ConnectionErrorReason.NotAllowed)
      return t('The media server refused the join token: it has probably expired. Get a new one to continue.');
    if (e.reason === ConnectionErrorReason.LeaveRequest && typeof e.context === 'number')
      return disconnectMessage(DisconnectReason[e.context]);
    if (e.reason === ConnectionErrorReason.ServerUnreachable || e.reason === ConnectionErrorReason.WebSocket)
      return t('The media server could not be reached. Check your connection and try again.');
  }
  return t('Could not connect to the meeting: {error}', { error: errorText(e) });
}

interface Options {
  join: JoinResponse;
  choices: Choices;
  /** Asks the API for a fresh join token. */
  rejoin(): Promise<JoinResponse>;
  /** Attaches the caller's event handlers to each new Room before it connects. */
  wire(r: Room): void;
  onNotice(msg: string): void;
  /** Called once a healed meeting is back. */
  onHealed(): void;
  /** The meeting's end-to-end encryption key (from the link's fragment), if it is encrypted. */
  e2eeKey?: string | null;
}

/** The meeting's connection: connects with the join token and, when the connection is lost
 * for any reason but a real end, fetches a fresh token and rejoins with the same microphone,
 * camera and screen choices, backing off while the server or the network is away. */
export function useMeetingConnection({ join, choices, rejoin, wire, onNotice, onHealed, e2eeKey }: Options) {
  const [session, setSession] = useState(join);
  const [sessions, setSessions] = useState(1);
  // How often the meeting came back after a loss, by a rejoin or by livekit-client's own
  // resume or restart (a LiveKit restart is often healed in place with the same token).
  const [heals, setHeals] = useState(0);
  const [room, setRoom] = useState<Room | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'connecting' });
  const want = useRef<Choices>({ ...choices });
  const healing = useRef<{ attempt: number; since: number } | null>(null);
  const alive = useRef(true);
  // The LiveKit sessions this page has seen, and when it last rejoined because one was missing.
  const seen = useRef(new Set<string>());
  const rosterRejoinAt = useRef(0);
  const cb = useRef({ rejoin, wire, onNotice, onHealed });
  cb.current = { rejoin, wire, onNotice, onHealed };

  useEffect(() => {
    alive.current = true;
    // livekit-client leaves the promise of a renegotiation that timed out (a slow network or a
    // busy machine) unhandled, and recovers by itself by resuming the connection; the meeting
    // says so instead of the console reporting an uncaught error.
    const onRejection = (e: PromiseRejectionEvent) => {
      if ((e.reason as { name?: string } | null)?.name !== 'NegotiationError') return;
      e.preventDefault();
      cb.current.onNotice(t('The media connection is slow; Parley is renegotiating it.'));
    };
    window.addEventListener('unhandledrejection', onRejection);
    return () => {
      alive.current = false;
      window.removeEventListener('unhandledrejection', onRejection);
    };
  }, []);

  /** One rejoin attempt after a pause; a refusal no retry can change ends the meeting. Any
   * other failure (LiveKit restarting and Parley's signalling answering 503, the network
   * away) is retried for as long as the page stays open: only the user's Leave stops it. */
  async function heal(why?: string) {
    const h = healing.current ?? { attempt: 0, since: Date.now() };
    healing.current = h;
    const long = Date.now() - h.since > healWindowMs;
    setPhase({ kind: 'reconnecting', attempt: h.attempt, why, long });
    const pause = healDelay(h.attempt);
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    h.attempt++;
    if (!alive.current) return;
    healMark(`rejoin ${h.attempt}: asking Parley for a fresh token`);
    try {
      const next = await cb.current.rejoin();
      if (!alive.current) return;
      healMark('fresh token received');
      setSession(next);
      setSessions((n) => n + 1);
    } catch (e) {
      if (!alive.current) return;
      healMark(`rejoin refused: ${errorText(e)}`);
      if (e instanceof ApiError && isFinalJoinError(e.status, e.code)) {
        healing.current = null;
        setPhase({ kind: 'failed', message: joinErrorMessage(e.code, e.message) });
        return;
      }
      void heal(errorText(e));
    }
  }

  useEffect(() => {
    const lowres = lowResRequested();
    const w = want.current;
    const enc = e2eeKey ? encryptionFor(e2eeKey) : null;
    const r = new Room({
      encryption: enc?.options,
      adaptiveStream: !lowres,
      dynacast: !lowres,
      reconnectPolicy: resumePolicy(),
      videoCaptureDefaults: {
        deviceId: w.videoDeviceId,
        resolution: lowres ? { width: 320, height: 240, frameRate: 15 } : VideoPresets.h720.resolution,
      },
      audioCaptureDefaults: { deviceId: w.audioDeviceId },
      audioOutput: w.audioOutputId ? { deviceId: w.audioOutputId } : undefined,
      publishDefaults: { simulcast: !lowres },
    });
    let cancelled = false;
    // A failed connect can both emit Disconnected and reject connect(): one heal per Room.
    let healStarted = false;
    const startHeal = (why?: string) => {
      if (cancelled || healStarted) return;
      healStarted = true;
      void heal(why);
    };
    const lp = r.localParticipant;
    // Remember what is being sent while connected; tracks going away during a disconnect are not a choice.
    const remember = () => {
      if (cancelled || r.state !== ConnectionState.Connected) return;
      want.current = {
        ...want.current,
        audio: lp.isMicrophoneEnabled,
        video: lp.isCameraEnabled,
        screen: lp.isScreenShareEnabled,
        videoDeviceId: r.getActiveDevice('videoinput') ?? want.current.videoDeviceId,
        audioDeviceId: r.getActiveDevice('audioinput') ?? want.current.audioDeviceId,
        audioOutputId: r.getActiveDevice('audiooutput') ?? want.current.audioOutputId,
      };
    };
    // After a heal, someone Parley lists in the meeting may be missing from this session (a
    // cluster node lost; roster.ts): then the app rejoins, at most once in rosterRejoinMs.
    let stopRoster = () => {};
    const watchAfterHeal = () => {
      if (session.breakout) return; // Parley's list is the main room's
      stopRoster();
      stopRoster = watchRoster(r, session.room.name, seen.current, (sids) => {
        if (cancelled || Date.now() - rosterRejoinAt.current < rosterRejoinMs) return;
        rosterRejoinAt.current = Date.now();
        healMark(`Parley lists ${sids.join(', ')} in the meeting, which this session never heard of: the app rejoins`, true);
        startHeal(t('Someone in the meeting was missing here; Parley is reconnecting you.'));
      });
    };
    rememberSessions(r, seen.current);
    for (const e of [RoomEvent.LocalTrackPublished, RoomEvent.LocalTrackUnpublished, RoomEvent.TrackMuted, RoomEvent.TrackUnmuted, RoomEvent.ActiveDeviceChanged] as const)
      r.on(e, remember);
    r.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      if (cancelled) return;
      const name = reason === undefined ? undefined : DisconnectReason[reason];
      if (isFinalDisconnect(name)) setPhase({ kind: 'ended', reason: name ?? 'UNKNOWN_REASON', message: disconnectMessage(name) });
      else {
        healMark(`disconnected (${name ?? 'no reason'}): the app rejoins`, true);
        startHeal();
      }
    });
    r.on(RoomEvent.Reconnected, () => {
      if (cancelled) return;
      healBack('media connected again (livekit-client)');
      setHeals((n) => n + 1);
      watchAfterHeal();
    });
    markHealSteps(r);
    r.on(RoomEvent.MediaDevicesError, (e) => cb.current.onNotice(t('Camera or microphone: {error}', { error: e.message })));
    cb.current.wire(r);

    if (!healing.current) setPhase({ kind: 'connecting' });
    setRoom(r);
    window.parleyRoom = r;
    // An encrypted meeting sends nothing before its key is in place.
    const ready = enc ? enc.ready.then(() => r.setE2EEEnabled(true)) : Promise.resolve();
    ready
      .then(() => r.connect(session.url, session.token))
      .then(async () => {
        if (cancelled) return;
        const healed = healing.current !== null;
        healing.current = null;
        if (healed) healBack('media connected (new session)');
        setPhase({ kind: 'live' });
        if (healed) {
          setHeals((n) => n + 1);
          cb.current.onHealed();
          watchAfterHeal();
        }
        const controls = controlsFor(fromLiveKit(lp.permissions));
        const w = want.current;
        const publish = async (what: string, on: boolean, allowed: boolean, f: () => Promise<unknown>) => {
          if (!on || !allowed) return;
          try {
            await f();
          } catch (e) {
            if (!cancelled) cb.current.onNotice(`${what}: ${errorText(e)}`);
          }
        };
        await publish(t('Camera'), w.video, controls.camera, () => lp.setCameraEnabled(true));
        if (healed) healMark('camera published');
        await publish(t('Microphone'), w.audio, controls.microphone, () => lp.setMicrophoneEnabled(true));
        // Browsers may refuse a screen capture that no click started; the notice says to share again.
        await publish(t('Screen share (share it again)'), !!w.screen && healed, controls.screenShare, () =>
          lp.setScreenShareEnabled(true, screenShareOptions()),
        );
      })
      .catch((e) => {
        if (cancelled || healStarted) return;
        // A media connection that did not come up (a slow network, a busy or restarting
        // LiveKit) is retried with a fresh token like a lost one; a refusal for good ends it.
        if (e instanceof ConnectionError && e.reason === ConnectionErrorReason.LeaveRequest && typeof e.context === 'number' && isFinalDisconnect(DisconnectReason[e.context])) {
          const name = DisconnectReason[e.context];
          setPhase({ kind: 'ended', reason: name, message: disconnectMessage(name) });
        } else startHeal(connectFailure(e));
      });
    return () => {
      cancelled = true;
      stopRoster();
      // livekit-client leaves the E2EE worker running: each Room's own ends with it.
      void r.disconnect().finally(() => enc?.worker.terminate());
      if (window.parleyRoom === r) window.parleyRoom = undefined;
      setRoom(null);
    };
    // One Room per session (join token): a rejoin brings a new session.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session]);

  /** A rejoin the user asked for (after leaving, or when healing gave up). */
  async function rejoinNow(): Promise<void> {
    healing.current = null;
    const next = await cb.current.rejoin();
    setSession(next);
    setSessions((n) => n + 1);
  }

  return { room, phase, setPhase, session, sessions, heals, rejoinNow };
}

/** Notes livekit-client's own steps of a heal and each remote video's first frame after it
 * on the heal's timeline (healLog). */
function markHealSteps(r: Room) {
  r.on(RoomEvent.SignalReconnecting, () => healMark('signalling lost: livekit-client resumes the session', true));
  r.on(RoomEvent.Reconnecting, () => healMark('livekit-client restarts the session (same token)', true));
  r.on(RoomEvent.SignalConnected, () => healMark('signalling connected'));
  // The engine's steps are not Room events; its emitter takes the event names as strings.
  const engine = r.engine as unknown as { on(event: string, f: () => void): void } | undefined;
  const steps: Record<string, string> = {
    resuming: 'livekit-client: resume attempt',
    restarting: 'livekit-client: restart attempt',
    signalResumed: 'livekit-client: signalling resumed',
    signalRestarted: 'livekit-client: signalling restarted, republishing',
  };
  for (const [event, what] of Object.entries(steps)) engine?.on(event, () => healMark(what));
  r.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _pub, p: RemoteParticipant) => {
    if (track.kind !== Track.Kind.Video || !healNoted()) return;
    const who = p.name || p.identity;
    healMark(`subscribed to the video of ${who}`);
    let seen = false;
    const watch = (el: HTMLMediaElement) => {
      const v = el as HTMLVideoElement;
      v.requestVideoFrameCallback?.(() => {
        if (seen) return;
        seen = true;
        healMark(`first video frame of ${who}`);
      });
    };
    track.attachedElements.forEach(watch);
    track.on(TrackEvent.ElementAttached, watch);
  });
}

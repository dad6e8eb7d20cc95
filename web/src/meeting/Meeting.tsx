import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import {
  ConnectionError,
  ConnectionErrorReason,
  ConnectionState,
  DisconnectReason,
  Room,
  RoomEvent,
  Track,
  VideoPresets,
  type RemoteParticipant,
} from 'livekit-client';
import type { JoinResponse, Room as RoomInfo } from '../api/types';
import { api, ApiError, path } from '../api';
import { useEventStream } from '../admin/events';
import {
  decodeMessage,
  disconnectMessage,
  encodeMessage,
  initialMeeting,
  joinErrorMessage,
  meetingReducer,
  recordingActiveFromEvent,
  topics,
} from '../state/meeting';
import { controlsFor, fromLiveKit, moderationFor } from '../state/permissions';
import { errorText, lowResRequested } from '../ui';
import { CopyInvite } from '../invite';
import { ChatPanel } from './ChatPanel';
import { randomId, useRoomVersion } from './hooks';
import { PeoplePanel } from './PeoplePanel';
import { RoomControls } from './RoomControls';
import { Toolbar, type Panel } from './Toolbar';
import { AudioTrack, VideoTile } from './VideoTile';

declare global {
  interface Window {
    /** The live LiveKit room, for tests (they disconnect it before closing the browser). */
    parleyRoom?: Room;
  }
}

export interface Choices {
  video: boolean;
  audio: boolean;
  videoDeviceId?: string;
  audioDeviceId?: string;
}

type Phase =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'ended'; reason: string; message: string }
  | { kind: 'failed'; message: string };

function connectFailure(e: unknown): string {
  if (e instanceof ConnectionError) {
    if (e.reason === ConnectionErrorReason.NotAllowed)
      return 'The media server refused the join token: it has probably expired. Get a new one to continue.';
    if (e.reason === ConnectionErrorReason.LeaveRequest && typeof e.context === 'number')
      return disconnectMessage(DisconnectReason[e.context]);
    if (e.reason === ConnectionErrorReason.ServerUnreachable || e.reason === ConnectionErrorReason.WebSocket)
      return 'The media server could not be reached. Check your connection and try again.';
  }
  return `Could not connect to the meeting: ${errorText(e)}`;
}

interface Props {
  join: JoinResponse;
  choices: Choices;
  isAdmin: boolean;
  /** Asks the API for a fresh join token (expired token, rejoin after leaving). */
  rejoin(): Promise<JoinResponse>;
  onExit(): void;
}

/** The meeting: connects to LiveKit with the join token and renders the call. */
export function Meeting({ join, choices, isAdmin, rejoin, onExit }: Props) {
  const [session, setSession] = useState(join);
  const [info, setInfo] = useState<RoomInfo>(join.room);
  const [room, setRoom] = useState<Room | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'connecting' });
  const [state, dispatch] = useReducer(meetingReducer, initialMeeting);
  const [panel, setPanel] = useState<Panel>(null);
  const [notice, setNotice] = useState('');
  const [retrying, setRetrying] = useState(false);
  const panelRef = useRef<Panel>(null);
  panelRef.current = panel;
  const handRef = useRef(false);
  const recordingRef = useRef(false);
  const moderation = moderationFor(session.role, isAdmin);
  const moderateRef = useRef(moderation.moderate);
  moderateRef.current = moderation.moderate;
  useRoomVersion(room);
  // Moderators follow the room's event stream (only they may read it) for the recording
  // indicator; everyone else relies on LiveKit's recording flag and the moderators' data messages.
  const followEvents = moderation.moderate && api.tokens !== null && phase.kind === 'live';
  useEventStream(followEvents ? path`/api/rooms/${info.name}/events` : null, (e) => {
    const active = recordingActiveFromEvent(e);
    if (active !== undefined) dispatch({ type: 'recording', active });
  });

  useEffect(() => {
    const lowres = lowResRequested();
    const r = new Room({
      adaptiveStream: !lowres,
      dynacast: !lowres,
      videoCaptureDefaults: {
        deviceId: choices.videoDeviceId,
        resolution: lowres ? { width: 320, height: 240, frameRate: 15 } : VideoPresets.h720.resolution,
      },
      audioCaptureDefaults: { deviceId: choices.audioDeviceId },
      publishDefaults: { simulcast: !lowres },
    });
    let cancelled = false;
    const send = (topic: string, payload: Record<string, unknown>, to?: RemoteParticipant) =>
      r.localParticipant.publishData(encodeMessage(payload), {
        reliable: true,
        topic,
        destinationIdentities: to ? [to.identity] : undefined,
      });

    r.on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      if (cancelled) return;
      const name = reason === undefined ? undefined : DisconnectReason[reason];
      setPhase({ kind: 'ended', reason: name ?? 'UNKNOWN_REASON', message: disconnectMessage(name) });
    });
    r.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      const m = decodeMessage(topic, payload);
      if (!m || !participant) return;
      if (m.topic === 'chat') {
        const message = { id: m.id || randomId(), from: participant.identity, name: participant.name || participant.identity, text: m.text, at: Date.now() };
        dispatch({ type: 'chat', message, seen: panelRef.current === 'chat' });
      } else if (m.topic === 'hand') {
        dispatch({ type: 'hand', identity: participant.identity, raised: m.raised, at: Date.now() });
      } else if (m.topic === 'recording') {
        dispatch({ type: 'recording', active: m.active });
      }
    });
    r.on(RoomEvent.ParticipantConnected, (p) => {
      // Newcomers learn the current hand and recording state from the others.
      if (handRef.current) void send(topics.hand, { raised: true }, p).catch(() => undefined);
      if (moderateRef.current && recordingRef.current) void send(topics.recording, { active: true }, p).catch(() => undefined);
    });
    r.on(RoomEvent.ParticipantDisconnected, (p) => dispatch({ type: 'left', identity: p.identity }));
    r.on(RoomEvent.MediaDevicesError, (e) => setNotice(`Camera or microphone: ${e.message}`));

    setPhase({ kind: 'connecting' });
    setRoom(r);
    window.parleyRoom = r;
    r.connect(session.url, session.token)
      .then(async () => {
        if (cancelled) return;
        setPhase({ kind: 'live' });
        const controls = controlsFor(fromLiveKit(r.localParticipant.permissions));
        try {
          if (choices.video && controls.camera) await r.localParticipant.setCameraEnabled(true);
        } catch (e) {
          setNotice(`Camera: ${errorText(e)}`);
        }
        try {
          if (choices.audio && controls.microphone) await r.localParticipant.setMicrophoneEnabled(true);
        } catch (e) {
          setNotice(`Microphone: ${errorText(e)}`);
        }
      })
      .catch((e) => {
        if (!cancelled) setPhase({ kind: 'failed', message: connectFailure(e) });
      });
    return () => {
      cancelled = true;
      void r.disconnect();
      if (window.parleyRoom === r) window.parleyRoom = undefined;
      setRoom(null);
    };
    // The choices are read once per connection; a new session (token) reconnects.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session]);

  const publish = useCallback(
    (topic: string, payload: Record<string, unknown>) => room?.localParticipant.publishData(encodeMessage(payload), { reliable: true, topic }),
    [room],
  );

  async function retry() {
    setRetrying(true);
    setNotice('');
    try {
      handRef.current = false;
      setSession(await rejoin());
    } catch (e) {
      const msg = e instanceof ApiError ? joinErrorMessage(e.code, e.message) : errorText(e);
      setPhase({ kind: 'failed', message: msg });
    } finally {
      setRetrying(false);
    }
  }

  if (phase.kind === 'ended' || phase.kind === 'failed') {
    const removed = phase.kind === 'ended' && (phase.reason === 'PARTICIPANT_REMOVED' || phase.reason === 'ROOM_DELETED');
    return (
      <section className="card narrow" data-testid="meeting-over" data-reason={phase.kind === 'ended' ? phase.reason : 'FAILED'}>
        <h1>{phase.kind === 'ended' ? (removed ? 'Meeting over' : 'Disconnected') : 'Could not join'}</h1>
        <p role="alert" data-testid="disconnect-message">
          {phase.message}
        </p>
        <div className="row wrap">
          {!(phase.kind === 'ended' && phase.reason === 'PARTICIPANT_REMOVED') && (
            <button type="button" className="primary" onClick={retry} disabled={retrying} data-testid="rejoin">
              {retrying ? 'Joining…' : phase.kind === 'failed' ? 'Try again' : 'Rejoin'}
            </button>
          )}
          <button type="button" onClick={onExit}>
            Back
          </button>
        </div>
      </section>
    );
  }

  if (!room || phase.kind === 'connecting') {
    return (
      <p className="muted center" role="status" data-testid="connecting">
        Connecting to {info.title || info.name}…
      </p>
    );
  }

  const lp = room.localParticipant;
  const controls = controlsFor(fromLiveKit(lp.permissions));
  const participants = [lp, ...room.remoteParticipants.values()];
  const recording = room.isRecording || state.recording;
  const screens = participants.flatMap((p) => {
    const pub = p.getTrackPublication(Track.Source.ScreenShare);
    return pub?.track ? [{ p, pub }] : [];
  });
  const audio = [...room.remoteParticipants.values()].flatMap((p) =>
    [...p.audioTrackPublications.values()].filter((pub) => pub.track && pub.isSubscribed),
  );
  const handRaised = state.hands[lp.identity] !== undefined;

  return (
    <div className={`meeting${panel ? ' with-panel' : ''}`} data-testid="meeting" data-identity={lp.identity}>
      <div className="meeting-head row wrap between">
        <h1 className="title">{info.title || info.name}</h1>
        <div className="row wrap">
          {recording && (
            <span className="rec" role="status" data-testid="recording-indicator">
              <span className="dot" aria-hidden="true" /> Recording
            </span>
          )}
          {info.locked && <span className="badge">Locked</span>}
          {info.inviteCode !== undefined && <CopyInvite room={info} />}
          {room.state === ConnectionState.Reconnecting && (
            <span className="badge warn" role="status">
              Reconnecting…
            </span>
          )}
          {moderation.moderate && (
            <RoomControls
              info={info}
              setInfo={setInfo}
              onNotice={setNotice}
              onRecording={(active) => {
                recordingRef.current = active;
                dispatch({ type: 'recording', active });
                void publish(topics.recording, { active })?.catch(() => undefined);
              }}
            />
          )}
        </div>
      </div>
      {notice && (
        <p className="notice" role="alert">
          {notice}{' '}
          <button type="button" className="link" onClick={() => setNotice('')} aria-label="Dismiss message">
            ×
          </button>
        </p>
      )}
      <div className="meeting-body">
      <div className="stage">
        {screens.map(({ p, pub }) => (
          <VideoTile key={`screen-${p.identity}`} participant={p} publication={pub} screen isLocal={p === lp} />
        ))}
        <div className={`grid n${Math.min(participants.length, 9)}`} data-testid="video-grid">
          {participants.map((p) => (
            <VideoTile
              key={p.identity}
              participant={p}
              publication={p.getTrackPublication(Track.Source.Camera)}
              isLocal={p === lp}
              handRaised={state.hands[p.identity] !== undefined}
            />
          ))}
        </div>
      </div>
      {panel && (
        <aside id="meeting-panel" className="panel">
          {panel === 'chat' ? (
            <ChatPanel
              messages={state.chat}
              canSend={controls.chat}
              send={async (text) => {
                const id = randomId();
                await publish(topics.chat, { id, text });
                dispatch({ type: 'chat', seen: true, message: { id, from: lp.identity, name: lp.name || 'You', text, at: Date.now() } });
              }}
            />
          ) : (
            <PeoplePanel room={room} info={info} setInfo={setInfo} hands={state.hands} moderation={moderation} onNotice={setNotice} />
          )}
        </aside>
      )}
      </div>
      <Toolbar
        room={room}
        controls={controls}
        handRaised={handRaised}
        onToggleHand={() => {
          const raised = !handRaised;
          handRef.current = raised;
          dispatch({ type: 'hand', identity: lp.identity, raised, at: Date.now() });
          void publish(topics.hand, { raised })?.catch((e) => setNotice(`Raise hand: ${errorText(e)}`));
        }}
        panel={panel}
        setPanel={(p) => {
          setPanel(p);
          if (p === 'chat') dispatch({ type: 'read' });
        }}
        unread={state.unread}
        onLeave={() => void room.disconnect()}
        onNotice={setNotice}
      />
      <div hidden>
        {audio.map((pub) => (
          <AudioTrack key={pub.trackSid} publication={pub} />
        ))}
      </div>
    </div>
  );
}

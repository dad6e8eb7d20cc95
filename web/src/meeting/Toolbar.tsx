import { useState } from 'react';
import type { Room } from 'livekit-client';
import type { Controls } from '../state/permissions';
import { errorText } from '../ui';

export type Panel = 'chat' | 'people' | null;

interface Props {
  room: Room;
  controls: Controls;
  handRaised: boolean;
  onToggleHand(): void;
  panel: Panel;
  setPanel(p: Panel): void;
  unread: number;
  onLeave(): void;
  onNotice(msg: string): void;
}

function MediaButton(props: {
  label: string;
  on: boolean;
  allowed: boolean;
  testId: string;
  onText: string;
  offText: string;
  toggle(): Promise<unknown>;
  onNotice(msg: string): void;
}) {
  const [busy, setBusy] = useState(false);
  const { label, on, allowed, testId } = props;
  return (
    <button
      type="button"
      className={`tool${on ? ' on' : ' off'}`}
      aria-label={label}
      aria-pressed={on}
      disabled={!allowed || busy}
      title={allowed ? undefined : `${label}: not permitted in this room`}
      data-testid={testId}
      data-muted={on ? 'false' : 'true'}
      data-allowed={allowed ? 'true' : 'false'}
      onClick={async () => {
        setBusy(true);
        try {
          await props.toggle();
        } catch (e) {
          props.onNotice(`${label}: ${errorText(e)}`);
        } finally {
          setBusy(false);
        }
      }}
    >
      {allowed ? (on ? props.onText : props.offText) : `${props.offText} (not allowed)`}
    </button>
  );
}

/** The meeting toolbar; media buttons follow the permissions LiveKit granted. */
export function Toolbar({ room, controls, handRaised, onToggleHand, panel, setPanel, unread, onLeave, onNotice }: Props) {
  const lp = room.localParticipant;
  const mic = lp.isMicrophoneEnabled;
  const cam = lp.isCameraEnabled;
  const screen = lp.isScreenShareEnabled;
  return (
    <div className="toolbar" role="toolbar" aria-label="Meeting controls">
      <MediaButton
        label="Microphone"
        testId="toggle-mic"
        on={mic}
        allowed={controls.microphone}
        onText="Mic on"
        offText="Mic off"
        toggle={() => lp.setMicrophoneEnabled(!mic)}
        onNotice={onNotice}
      />
      <MediaButton
        label="Camera"
        testId="toggle-camera"
        on={cam}
        allowed={controls.camera}
        onText="Camera on"
        offText="Camera off"
        toggle={() => lp.setCameraEnabled(!cam)}
        onNotice={onNotice}
      />
      <MediaButton
        label="Share screen"
        testId="toggle-screen"
        on={screen}
        allowed={controls.screenShare}
        onText="Stop sharing"
        offText="Share screen"
        toggle={() => lp.setScreenShareEnabled(!screen, { audio: false, selfBrowserSurface: 'exclude' })}
        onNotice={onNotice}
      />
      <button
        type="button"
        className={`tool${handRaised ? ' on' : ''}`}
        aria-label="Raise hand"
        aria-pressed={handRaised}
        disabled={!controls.raiseHand}
        data-testid="toggle-hand"
        onClick={onToggleHand}
      >
        {handRaised ? 'Lower hand' : 'Raise hand'}
      </button>
      <button
        type="button"
        className={`tool${panel === 'chat' ? ' on' : ''}`}
        aria-label={unread > 0 ? `Chat, ${unread} unread` : 'Chat'}
        aria-pressed={panel === 'chat'}
        aria-controls="meeting-panel"
        data-testid="toggle-chat"
        onClick={() => setPanel(panel === 'chat' ? null : 'chat')}
      >
        Chat{unread > 0 && <span className="count">{unread}</span>}
      </button>
      <button
        type="button"
        className={`tool${panel === 'people' ? ' on' : ''}`}
        aria-label="Participants"
        aria-pressed={panel === 'people'}
        aria-controls="meeting-panel"
        data-testid="toggle-people"
        onClick={() => setPanel(panel === 'people' ? null : 'people')}
      >
        People ({room.numParticipants || room.remoteParticipants.size + 1})
      </button>
      <button type="button" className="tool danger" aria-label="Leave meeting" data-testid="leave" onClick={onLeave}>
        Leave
      </button>
    </div>
  );
}

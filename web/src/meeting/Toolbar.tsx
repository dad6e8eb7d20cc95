import { useState, type ReactNode } from 'react';
import type { Room } from 'livekit-client';
import { Hand, LayoutGrid, MessageSquare, Mic, MicOff, MonitorOff, MonitorUp, PhoneOff, Presentation, Settings, Users, Video, VideoOff } from 'lucide-react';
import type { Controls } from '../state/permissions';
import { errorText } from '../ui';
import { screenShareOptions } from './connection';
import { t } from '../i18n';

export type Panel = 'chat' | 'people' | 'devices' | null;

/** Keys that work anywhere in the meeting but in text fields. */
export const shortcuts = { mic: 'm', camera: 'v', hand: 'h', chat: 'c' } as const;

interface Props {
  room: Room;
  controls: Controls;
  handRaised: boolean;
  onToggleHand(): void;
  toggleMic(): Promise<unknown>;
  toggleCamera(): Promise<unknown>;
  panel: Panel;
  setPanel(p: Panel): void;
  speakerView: boolean;
  setSpeakerView(v: boolean): void;
  unread: number;
  onLeave(): void;
  onNotice(msg: string, kind?: 'info' | 'error'): void;
}

function MediaButton(props: {
  label: string;
  on: boolean;
  allowed: boolean;
  testId: string;
  onIcon: ReactNode;
  offIcon: ReactNode;
  shortcut?: string;
  toggle(): Promise<unknown>;
  onNotice(msg: string, kind?: 'info' | 'error'): void;
}) {
  const [busy, setBusy] = useState(false);
  const { label, on, allowed, testId, shortcut } = props;
  const state = on ? t('{device} on', { device: label }) : t('{device} off', { device: label });
  const tip = allowed ? `${state}${shortcut ? ` (${shortcut.toUpperCase()})` : ''}` : t('{device}: not permitted in this room', { device: label });
  return (
    <button
      type="button"
      className={`tool${on ? ' on' : ' off'}`}
      aria-label={allowed ? label : t('{device} (not allowed)', { device: label })}
      aria-pressed={on}
      aria-keyshortcuts={shortcut}
      disabled={!allowed || busy}
      data-tip={tip}
      data-testid={testId}
      data-muted={on ? 'false' : 'true'}
      data-allowed={allowed ? 'true' : 'false'}
      onClick={async () => {
        setBusy(true);
        try {
          await props.toggle();
        } catch (e) {
          props.onNotice(`${label}: ${errorText(e)}`, 'error');
        } finally {
          setBusy(false);
        }
      }}
    >
      {on ? props.onIcon : props.offIcon}
    </button>
  );
}

function PanelButton(props: { panel: Panel; which: Exclude<Panel, null>; setPanel(p: Panel): void; label: string; tip: string; testId: string; shortcut?: string; children: ReactNode }) {
  const open = props.panel === props.which;
  return (
    <button
      type="button"
      className={`tool${open ? ' on' : ''}`}
      aria-pressed={open}
      aria-controls={open ? 'meeting-panel' : undefined}
      aria-keyshortcuts={props.shortcut}
      data-tip={props.tip}
      data-testid={props.testId}
      onClick={() => props.setPanel(open ? null : props.which)}
    >
      {/* The name is text, not aria-label, so it contains the count shown beside the icon. */}
      <span className="sr-only">{props.label}</span>
      {props.children}
    </button>
  );
}

const icon = { 'aria-hidden': true, size: 22 } as const;

/** The meeting toolbar; media buttons follow the permissions LiveKit granted. */
export function Toolbar(props: Props) {
  const { room, controls, handRaised, onToggleHand, panel, setPanel, unread, onLeave, onNotice } = props;
  const lp = room.localParticipant;
  const screen = lp.isScreenShareEnabled;
  // Derived from the room's own participant map, so it changes with the tiles, not with a poll.
  const count = room.remoteParticipants.size + 1;
  return (
    <div className="toolbar" role="toolbar" aria-label={t('Meeting controls')}>
      <MediaButton label={t('Microphone')} testId="toggle-mic" on={lp.isMicrophoneEnabled} allowed={controls.microphone} shortcut={shortcuts.mic}
        onIcon={<Mic {...icon} />} offIcon={<MicOff {...icon} />} toggle={props.toggleMic} onNotice={onNotice} />
      <MediaButton label={t('Camera')} testId="toggle-camera" on={lp.isCameraEnabled} allowed={controls.camera} shortcut={shortcuts.camera}
        onIcon={<Video {...icon} />} offIcon={<VideoOff {...icon} />} toggle={props.toggleCamera} onNotice={onNotice} />
      <MediaButton label={t('Share screen')} testId="toggle-screen" on={screen} allowed={controls.screenShare}
        onIcon={<MonitorOff {...icon} />} offIcon={<MonitorUp {...icon} />}
        toggle={() => lp.setScreenShareEnabled(!screen, screenShareOptions())} onNotice={onNotice} />
      <button
        type="button"
        className={`tool${handRaised ? ' on' : ''}`}
        aria-label={t('Raise hand')}
        aria-pressed={handRaised}
        aria-keyshortcuts={shortcuts.hand}
        disabled={!controls.raiseHand}
        data-tip={`${handRaised ? t('Lower hand') : t('Raise hand')} (H)`}
        data-testid="toggle-hand"
        onClick={onToggleHand}
      >
        <Hand {...icon} />
      </button>
      <button
        type="button"
        className={`tool${props.speakerView ? ' on' : ''}`}
        aria-label={t('Speaker view')}
        aria-pressed={props.speakerView}
        data-tip={props.speakerView ? t('Grid view') : t('Speaker view')}
        data-testid="toggle-view"
        onClick={() => props.setSpeakerView(!props.speakerView)}
      >
        {props.speakerView ? <LayoutGrid {...icon} /> : <Presentation {...icon} />}
      </button>
      <span className="toolbar-gap" aria-hidden="true" />
      <PanelButton panel={panel} which="chat" setPanel={setPanel} label={unread > 0 ? t('Chat, {n} unread', { n: unread }) : t('Chat')} tip={`${t('Chat')} (C)`} testId="toggle-chat" shortcut={shortcuts.chat}>
        <MessageSquare {...icon} />
        {unread > 0 && (
          <span className="count" aria-hidden="true">
            {unread}
          </span>
        )}
      </PanelButton>
      <PanelButton panel={panel} which="people" setPanel={setPanel} label={t('People ({n})', { n: count })} tip={t('People')} testId="toggle-people">
        <Users {...icon} />
        <span className="count plain" aria-hidden="true" data-testid="people-count">
          {count}
        </span>
      </PanelButton>
      <PanelButton panel={panel} which="devices" setPanel={setPanel} label={t('Devices')} tip={t('Camera, microphone and speaker')} testId="toggle-devices">
        <Settings {...icon} />
      </PanelButton>
      <button type="button" className="tool danger leave" aria-label={t('Leave meeting')} data-tip={t('Leave')} data-testid="leave" onClick={onLeave}>
        <PhoneOff {...icon} />
      </button>
    </div>
  );
}

import { useEffect, useState } from 'react';
import { createAudioAnalyser, supportsAudioOutputSelection, Track, type LocalAudioTrack, type LocalVideoTrack, type Room } from 'livekit-client';
import { errorText } from '../ui';
import { DeviceSelect } from './DeviceSelect';
import { useMediaDevices } from './devices';
import { t } from '../i18n';

/** A microphone level bar for a local audio track. */
export function LevelMeter({ track }: { track?: LocalAudioTrack }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track) return;
    const a = createAudioAnalyser(track);
    const timer = window.setInterval(() => setLevel(a.calculateVolume()), 150);
    return () => {
      clearInterval(timer);
      void a.cleanup();
      setLevel(0);
    };
  }, [track]);
  const pct = Math.round(Math.min(100, level * 300));
  return (
    <div className="meter" role="meter" aria-label={t('Microphone level')} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="mic-level">
      <span style={{ width: `${pct}%` }} />
    </div>
  );
}

/** Background blur of one's camera, when the camera is on and the browser can run it. */
function BlurToggle({ room, onNotice }: { room: Room; onNotice(msg: string, kind?: 'info' | 'error'): void }) {
  const camera = room.localParticipant.getTrackPublication(Track.Source.Camera)?.track as LocalVideoTrack | undefined;
  const [supported, setSupported] = useState(false);
  const [busy, setBusy] = useState(false);
  const [, redraw] = useState(0);
  useEffect(() => {
    let stopped = false;
    void import('./blur').then((b) => b.blurSupported()).then((ok) => !stopped && setSupported(ok), () => undefined);
    return () => {
      stopped = true;
    };
  }, []);
  if (!supported || !camera) return null;
  const on = !!camera.getProcessor();
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={on}
        disabled={busy}
        data-testid="blur-toggle"
        onChange={async (e) => {
          const want = e.target.checked; // read now: React puts the controlled box back at once
          setBusy(true);
          try {
            await (await import('./blur')).setBlur(camera, want);
          } catch (err) {
            onNotice(t('Background blur: {error}', { error: errorText(err) }), 'error');
          } finally {
            setBusy(false);
            redraw((n) => n + 1);
          }
        }}
      />
      {busy ? t('Blurring the background…') : t('Blur my background')}
    </label>
  );
}

/** Camera, microphone and speaker choice during the call; switching keeps the call. */
export function DevicePanel({ room, onNotice }: { room: Room; onNotice(msg: string, kind?: 'info' | 'error'): void }) {
  const cameras = useMediaDevices('videoinput');
  const mics = useMediaDevices('audioinput');
  const speakers = useMediaDevices('audiooutput');
  const [, redraw] = useState(0);
  const micTrack = room.localParticipant.getTrackPublication(Track.Source.Microphone)?.track as LocalAudioTrack | undefined;

  const choose = (kind: MediaDeviceKind, noun: string) => async (id: string) => {
    try {
      await room.switchActiveDevice(kind, id);
      redraw((n) => n + 1);
    } catch (e) {
      onNotice(`${noun}: ${errorText(e)}`, 'error');
    }
  };
  const select = (kind: MediaDeviceKind, noun: string, list: MediaDeviceInfo[], testId: string) => {
    const active = room.getActiveDevice(kind);
    return (
      <DeviceSelect label={noun} noun={noun} list={list} value={active} defaultOption={!list.some((d) => d.deviceId === active)} onChange={(id) => void choose(kind, noun)(id ?? '')} testId={testId} />
    );
  };
  return (
    <section className="devices" aria-label={t('Devices')} data-testid="device-panel">
      <h2>{t('Devices')}</h2>
      {select('videoinput', t('Camera'), cameras, 'camera-select')}
      <BlurToggle room={room} onNotice={onNotice} />
      {select('audioinput', t('Microphone'), mics, 'mic-select')}
      <LevelMeter track={micTrack} />
      {supportsAudioOutputSelection() && speakers.length > 0 && select('audiooutput', t('Speaker'), speakers, 'speaker-select')}
    </section>
  );
}

import { useEffect, useState } from 'react';

/** The browser's media devices of one kind, kept current as devices come and go (and as
 * labels appear once a permission is granted). */
export function useMediaDevices(kind: MediaDeviceKind, refresh = 0): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    let stopped = false;
    const load = () =>
      md
        .enumerateDevices()
        .then((all) => {
          if (!stopped) setDevices(all.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default'));
        })
        .catch(() => undefined);
    void load();
    md.addEventListener('devicechange', load);
    return () => {
      stopped = true;
      md.removeEventListener('devicechange', load);
    };
  }, [kind, refresh]);
  return devices;
}

/** A device's label, or a numbered name before the browser reveals labels. */
export function deviceLabel(d: MediaDeviceInfo, i: number, noun: string): string {
  return d.label || `${noun} ${i + 1}`;
}

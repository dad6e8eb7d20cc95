import { useEffect, useState } from 'react';
import { RoomEvent, type Room } from 'livekit-client';

// Every event that changes what the meeting screen shows.
const redrawEvents = [
  RoomEvent.ConnectionStateChanged,
  RoomEvent.ParticipantConnected,
  RoomEvent.ParticipantDisconnected,
  RoomEvent.TrackPublished,
  RoomEvent.TrackUnpublished,
  RoomEvent.TrackSubscribed,
  RoomEvent.TrackUnsubscribed,
  RoomEvent.TrackMuted,
  RoomEvent.TrackUnmuted,
  RoomEvent.LocalTrackPublished,
  RoomEvent.LocalTrackUnpublished,
  RoomEvent.ActiveSpeakersChanged,
  RoomEvent.ParticipantNameChanged,
  RoomEvent.ParticipantMetadataChanged,
  RoomEvent.ParticipantPermissionsChanged,
  RoomEvent.RecordingStatusChanged,
  RoomEvent.RoomMetadataChanged,
  RoomEvent.Reconnecting,
  RoomEvent.Reconnected,
  RoomEvent.TrackStreamStateChanged,
] as const;

/** Re-renders the caller whenever the room changes; the screen is then derived from `room` itself. */
export function useRoomVersion(room: Room | null): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!room) return;
    let scheduled = 0;
    const bump = () => {
      // Coalesce bursts (a join publishes several tracks at once) into one render.
      if (scheduled) return;
      scheduled = requestAnimationFrame(() => {
        scheduled = 0;
        setVersion((v) => v + 1);
      });
    };
    for (const e of redrawEvents) room.on(e, bump);
    return () => {
      for (const e of redrawEvents) room.off(e, bump);
      if (scheduled) cancelAnimationFrame(scheduled);
    };
  }, [room]);
  return version;
}

/** A short random id for chat messages (crypto.randomUUID needs a secure context). */
export function randomId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

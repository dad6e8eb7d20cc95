// The meeting's own state beyond what livekit-client tracks: chat, raised hands, recording.

import type { Recording } from '../api/types';
import { t } from '../i18n';

export interface ChatMessage {
  id: string;
  from: string; // identity
  name: string;
  text: string;
  at: number;
}

export interface MeetingState {
  chat: ChatMessage[];
  hands: Record<string, number>; // identity -> when raised
  recording: boolean;
  unread: number;
}

export const initialMeeting: MeetingState = { chat: [], hands: {}, recording: false, unread: 0 };

export type MeetingAction =
  | { type: 'chat'; message: ChatMessage; seen: boolean }
  | { type: 'hand'; identity: string; raised: boolean; at: number }
  | { type: 'left'; identity: string }
  | { type: 'recording'; active: boolean }
  | { type: 'read' };

const maxChat = 500;

export function meetingReducer(s: MeetingState, a: MeetingAction): MeetingState {
  switch (a.type) {
    case 'chat': {
      if (s.chat.some((m) => m.id === a.message.id)) return s;
      const chat = [...s.chat, a.message].slice(-maxChat);
      return { ...s, chat, unread: a.seen ? s.unread : s.unread + 1 };
    }
    case 'hand': {
      if (a.raised === a.identity in s.hands) return s;
      const hands = { ...s.hands };
      if (a.raised) hands[a.identity] = a.at;
      else delete hands[a.identity];
      return { ...s, hands };
    }
    case 'left': {
      if (!(a.identity in s.hands)) return s;
      const hands = { ...s.hands };
      delete hands[a.identity];
      return { ...s, hands };
    }
    case 'recording':
      return s.recording === a.active ? s : { ...s, recording: a.active };
    case 'read':
      return s.unread === 0 ? s : { ...s, unread: 0 };
  }
}

/** Data message topics. Raise hand uses a data message because the join token does not grant
 * canUpdateOwnMetadata, so participant attributes cannot be set from the browser. */
export const topics = { chat: 'chat', hand: 'hand', recording: 'recording' } as const;

/** Decodes a data message payload of a known topic; undefined for anything malformed. */
export function decodeMessage(topic: string | undefined, payload: Uint8Array): MeetingPayload | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  switch (topic) {
    case topics.chat:
      return typeof o.text === 'string' && o.text.trim() !== ''
        ? { topic: 'chat', id: typeof o.id === 'string' ? o.id : '', text: o.text.slice(0, 2000) }
        : undefined;
    case topics.hand:
      return typeof o.raised === 'boolean' ? { topic: 'hand', raised: o.raised } : undefined;
    case topics.recording:
      return typeof o.active === 'boolean' ? { topic: 'recording', active: o.active } : undefined;
  }
  return undefined;
}

export type MeetingPayload =
  | { topic: 'chat'; id: string; text: string }
  | { topic: 'hand'; raised: boolean }
  | { topic: 'recording'; active: boolean };

export function encodeMessage(p: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(p));
}

export interface ListEntry {
  identity: string;
  name: string;
  isLocal: boolean;
  speaking: boolean;
}

/** Orders the participant list: you first, then raised hands (earliest first), then speakers, then by name. */
export function sortParticipants<T extends ListEntry>(list: T[], hands: Record<string, number>): T[] {
  return [...list].sort((a, b) => {
    if (a.isLocal !== b.isLocal) return a.isLocal ? -1 : 1;
    const ha = hands[a.identity];
    const hb = hands[b.identity];
    if ((ha === undefined) !== (hb === undefined)) return ha !== undefined ? -1 : 1;
    if (ha !== undefined && hb !== undefined && ha !== hb) return ha - hb;
    if (a.speaking !== b.speaking) return a.speaking ? -1 : 1;
    return (a.name || a.identity).localeCompare(b.name || b.identity);
  });
}

/** Human text for why a meeting ended, from livekit-client's DisconnectReason name. */
export function disconnectMessage(reason: string | undefined): string {
  switch (reason) {
    case 'PARTICIPANT_REMOVED':
      return t('You were removed from the meeting by a moderator.');
    case 'ROOM_DELETED':
      return t('A moderator ended the meeting for everyone.');
    case 'DUPLICATE_IDENTITY':
      return t('You joined this meeting from another tab or device, so this one was disconnected.');
    case 'SERVER_SHUTDOWN':
      return t('The media server shut down. Try joining again in a moment.');
    case 'JOIN_FAILURE':
    case 'SIGNAL_CLOSE':
    case 'STATE_MISMATCH':
      return t('The connection to the meeting was lost.');
    case 'CLIENT_INITIATED':
    case undefined:
      return t('You left the meeting.');
    default:
      return t('You were disconnected from the meeting.');
  }
}

const liveRecording = new Set(['starting', 'active', 'ending']);

/** Reads a recording_status event ({data: recording} or the recording inline); undefined when it is not one. */
export function recordingActiveFromEvent(e: { type: string; data?: unknown }): boolean | undefined {
  if (e.type !== 'recording_status') return undefined;
  const status = (e.data as Partial<Recording> | undefined)?.status;
  return typeof status === 'string' ? liveRecording.has(status) : undefined;
}

/** Human text for a refused join, by the API's error code. */
export function joinErrorMessage(code: string, fallback: string): string {
  switch (code) {
    case 'banned':
      return t('You have been banned from this room by a moderator.');
    case 'room_full':
      return t('This room is full. Try again when someone leaves.');
    case 'room_locked':
      return t('This room is locked: a moderator has closed it to new participants.');
    case 'livekit_unavailable':
      return t('The media server is unavailable right now. Try again in a moment.');
    case 'not_invited':
      return t('You need an invitation to join this room. Ask the host for the invite link.');
    case 'room_not_found':
      return t('This room does not exist.');
    case 'login_required':
      return t('Sign in to join this room.');
    case 'guests_not_allowed':
    case 'unauthorized':
      return t('This room does not allow guests. Sign in to join.');
    default:
      return fallback;
  }
}

/** The metadata Parley puts in each join token: {role, userId?}. Empty for anything unparseable. */
export function participantMeta(metadata: string | undefined): { role?: string; userId?: string } {
  if (!metadata) return {};
  try {
    const v = JSON.parse(metadata) as { role?: unknown; userId?: unknown };
    return {
      role: typeof v.role === 'string' ? v.role : undefined,
      userId: typeof v.userId === 'string' && v.userId ? v.userId : undefined,
    };
  } catch {
    return {};
  }
}

import type { JoinRole, Permissions, Source } from '../api/types';
import { t } from '../i18n';

/** livekit protocol TrackSource numbers, as found in ParticipantPermission.canPublishSources. */
const trackSourceNames: Record<number, Source> = {
  1: 'camera',
  2: 'microphone',
  3: 'screen_share',
  4: 'screen_share_audio',
};

/** The grant in LiveKit's shape (livekit-client's ParticipantPermission), loosely typed. */
export interface LiveKitGrant {
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  canPublishSources?: (number | string)[];
}

/** Converts LiveKit's grant to the API's Permissions shape. */
export function fromLiveKit(g: LiveKitGrant | undefined): Permissions | undefined {
  if (!g) return undefined;
  return {
    canPublish: !!g.canPublish,
    canSubscribe: !!g.canSubscribe,
    canPublishData: !!g.canPublishData,
    canPublishSources: (g.canPublishSources ?? [])
      .map((s) => (typeof s === 'number' ? trackSourceNames[s] : (s.toLowerCase() as Source)))
      .filter((s): s is Source => !!s),
  };
}

/** Whether the grant lets the participant publish this source. An empty source list means every source. */
export function canPublishSource(p: Permissions | undefined, s: Source): boolean {
  if (!p || !p.canPublish) return false;
  return p.canPublishSources.length === 0 || p.canPublishSources.includes(s);
}

/** The meeting controls a participant may use. */
export interface Controls {
  microphone: boolean;
  camera: boolean;
  screenShare: boolean;
  chat: boolean;
  raiseHand: boolean;
}

/** Maps the permissions the server granted to the controls the toolbar offers.
 * Before the grant is known (undefined) everything is off. */
export function controlsFor(p: Permissions | undefined): Controls {
  return {
    microphone: canPublishSource(p, 'microphone'),
    camera: canPublishSource(p, 'camera'),
    screenShare: canPublishSource(p, 'screen_share'),
    chat: !!p?.canPublishData,
    raiseHand: !!p?.canPublishData,
  };
}

/** Moderation powers for a joined participant: owners, moderators and admins moderate. */
export interface Moderation {
  moderate: boolean; // kick, mute, permissions, lock, end, recording
  promote: boolean; // add/remove moderators: owner and admin only
}

export function moderationFor(role: JoinRole | undefined, isAdmin: boolean): Moderation {
  const moderate = isAdmin || role === 'owner' || role === 'moderator';
  return { moderate, promote: isAdmin || role === 'owner' };
}

/** All sources, in the order the permissions editor lists them. */
export const allSources: Source[] = ['camera', 'microphone', 'screen_share', 'screen_share_audio'];

// Getters, so that each read is in the language chosen then.
export const sourceLabels: Record<Source, string> = {
  get camera() {
    return t('Camera');
  },
  get microphone() {
    return t('Microphone');
  },
  get screen_share() {
    return t('Screen share');
  },
  get screen_share_audio() {
    return t('Screen share audio');
  },
};

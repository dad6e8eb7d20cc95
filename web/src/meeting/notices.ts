import type { Controls } from '../state/permissions';

const what: Record<keyof Controls, string> = {
  microphone: 'use your microphone',
  camera: 'use your camera',
  screenShare: 'share your screen',
  chat: 'send chat messages',
  raiseHand: 'raise your hand',
};

function list(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The notice for a permission change a moderator made; undefined when nothing you can do changed. */
export function describePermissionChange(before: Controls, after: Controls): string | undefined {
  const keys = Object.keys(what) as (keyof Controls)[];
  // Raise hand rides on the same grant as chat: one sentence for both.
  const lost = keys.filter((k) => before[k] && !after[k] && !(k === 'raiseHand' && !after.chat && before.chat)).map((k) => what[k]);
  const gained = keys.filter((k) => !before[k] && after[k] && !(k === 'raiseHand' && after.chat && !before.chat)).map((k) => what[k]);
  const parts: string[] = [];
  if (lost.length) parts.push(`you can no longer ${list(lost)}`);
  if (gained.length) parts.push(`you can now ${list(gained)}`);
  if (!parts.length) return undefined;
  return `A moderator changed your permissions: ${parts.join('; ')}.`;
}

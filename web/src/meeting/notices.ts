import type { Controls } from '../state/permissions';
import { t } from '../i18n';

const what: Record<keyof Controls, () => string> = {
  microphone: () => t('use your microphone'),
  camera: () => t('use your camera'),
  screenShare: () => t('share your screen'),
  chat: () => t('send chat messages'),
  raiseHand: () => t('raise your hand'),
};

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return t('{items} and {last}', { items: items.slice(0, -1).join(', '), last: items[items.length - 1] });
}

/** The notice for a permission change a moderator made; undefined when nothing you can do changed. */
export function describePermissionChange(before: Controls, after: Controls): string | undefined {
  const keys = Object.keys(what) as (keyof Controls)[];
  // Raise hand rides on the same grant as chat: one sentence for both.
  const lost = keys.filter((k) => before[k] && !after[k] && !(k === 'raiseHand' && !after.chat && before.chat)).map((k) => what[k]());
  const gained = keys.filter((k) => !before[k] && after[k] && !(k === 'raiseHand' && after.chat && !before.chat)).map((k) => what[k]());
  const parts: string[] = [];
  if (lost.length) parts.push(t('you can no longer {what}', { what: list(lost) }));
  if (gained.length) parts.push(t('you can now {what}', { what: list(gained) }));
  if (!parts.length) return undefined;
  return t('A moderator changed your permissions: {changes}.', { changes: parts.join('; ') });
}

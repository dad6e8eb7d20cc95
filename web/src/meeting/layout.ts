// Pure layout arithmetic of the meeting stage.

export interface GridFit {
  cols: number;
  rows: number;
  width: number;
  height: number;
}

/** The number of columns that gives n tiles of the given aspect ratio the largest size in a
 * width x height box with gap pixels between tiles. */
export function fitGrid(n: number, width: number, height: number, gap = 8, aspect = 16 / 9): GridFit {
  if (n <= 0 || width <= 0 || height <= 0) return { cols: 1, rows: 1, width: Math.max(0, width), height: Math.max(0, height) };
  let best: GridFit = { cols: 1, rows: n, width: 0, height: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const w = Math.min(cellW, cellH * aspect);
    if (w > best.width) best = { cols, rows, width: Math.floor(w), height: Math.floor(w / aspect) };
  }
  return best;
}

/** What the stage shows in its main area. */
export type Focus = { kind: 'grid' } | { kind: 'screen'; identity: string } | { kind: 'person'; identity: string };

/** Chooses the main tile: a pinned person or screen wins, then the newest screen share, then
 * in speaker view the last active speaker (never yourself while others are there); else a grid. */
export function chooseFocus(opts: {
  pinned?: string; // "screen:<identity>" or "person:<identity>"
  screens: string[]; // identities sharing a screen, oldest first
  people: string[]; // identities in the meeting
  local: string;
  speakerView: boolean;
  lastSpeaker?: string;
}): Focus {
  const { pinned, screens, people, local, speakerView, lastSpeaker } = opts;
  if (pinned?.startsWith('screen:') && screens.includes(pinned.slice(7))) return { kind: 'screen', identity: pinned.slice(7) };
  if (pinned?.startsWith('person:') && people.includes(pinned.slice(7))) return { kind: 'person', identity: pinned.slice(7) };
  if (screens.length > 0) return { kind: 'screen', identity: screens[screens.length - 1] };
  if (!speakerView || people.length < 2) return { kind: 'grid' };
  if (lastSpeaker && lastSpeaker !== local && people.includes(lastSpeaker)) return { kind: 'person', identity: lastSpeaker };
  const other = people.find((p) => p !== local);
  return other ? { kind: 'person', identity: other } : { kind: 'grid' };
}

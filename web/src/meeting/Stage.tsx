import { useEffect, useRef, useState } from 'react';
import { Track, type Participant, type Room } from 'livekit-client';
import { Maximize2 } from 'lucide-react';
import { chooseFocus, fitGrid } from './layout';
import { VideoTile } from './VideoTile';
import { t } from '../i18n';

/** The size of an element, kept current as the window or the panels change it. */
function useSize<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize({ width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size] as const;
}

interface Props {
  room: Room;
  hands: Record<string, number>;
  pinned?: string;
  setPinned(p: string | undefined): void;
  speakerView: boolean;
  lastSpeaker?: string;
  selfMini: boolean;
  setSelfMini(v: boolean): void;
}

const gap = 8;

/** The meeting stage: a grid that fills the space, or one main tile (a screen share, a pinned
 * person, the active speaker) with everyone else in a strip beside it. */
export function Stage({ room, hands, pinned, setPinned, speakerView, lastSpeaker, selfMini, setSelfMini }: Props) {
  const [ref, size] = useSize<HTMLDivElement>();
  const lp = room.localParticipant;
  const people: Participant[] = [lp, ...room.remoteParticipants.values()];
  const screens = people.filter((p) => p.getTrackPublication(Track.Source.ScreenShare)?.track);
  const focus = chooseFocus({
    pinned,
    screens: screens.map((p) => p.identity),
    people: people.map((p) => p.identity),
    local: lp.identity,
    speakerView,
    lastSpeaker,
  });
  const alone = people.length === 1;
  const miniSelf = selfMini && !alone;

  const togglePin = (key: string) => () => setPinned(pinned === key ? undefined : key);
  const tile = (p: Participant, opts: { main?: boolean; style?: React.CSSProperties } = {}) => (
    <VideoTile
      key={p.identity}
      participant={p}
      publication={p.getTrackPublication(Track.Source.Camera)}
      isLocal={p === lp}
      handRaised={hands[p.identity] !== undefined}
      main={opts.main}
      pinned={pinned === `person:${p.identity}`}
      onPin={alone ? undefined : togglePin(`person:${p.identity}`)}
      onMinimise={p === lp && !alone ? () => setSelfMini(true) : undefined}
      style={opts.style}
    />
  );
  const screenTile = (p: Participant, main: boolean) => (
    <VideoTile
      key={`screen-${p.identity}`}
      participant={p}
      publication={p.getTrackPublication(Track.Source.ScreenShare)}
      screen
      isLocal={p === lp}
      main={main}
      pinned={pinned === `screen:${p.identity}`}
      onPin={togglePin(`screen:${p.identity}`)}
    />
  );

  const inLayout = people.filter((p) => !(miniSelf && p === lp));
  let body;
  let layout = 'grid';
  if (focus.kind === 'grid') {
    const fit = fitGrid(inLayout.length, size.width, size.height, gap);
    body = (
      <div
        className="grid"
        data-testid="video-grid"
        style={{ width: fit.cols * fit.width + gap * (fit.cols - 1) }}
      >
        {inLayout.map((p) => tile(p, { style: { width: fit.width, height: fit.height } }))}
      </div>
    );
  } else {
    const mainP = people.find((p) => p.identity === focus.identity)!;
    const strip = focus.kind === 'screen' ? inLayout : inLayout.filter((p) => p !== mainP);
    const otherScreens = screens.filter((p) => !(focus.kind === 'screen' && p === mainP));
    // The strip goes beside the main tile on a landscape stage, below it on a phone.
    layout = `focus ${size.width >= size.height * 1.15 && size.width > 640 ? 'side' : 'below'}`;
    body = (
      <>
        <div className="main-area">{focus.kind === 'screen' ? screenTile(mainP, true) : tile(mainP, { main: true })}</div>
        {(strip.length > 0 || otherScreens.length > 0) && (
          <div className="strip" data-testid="video-grid">
            {otherScreens.map((p) => screenTile(p, false))}
            {strip.map((p) => tile(p))}
          </div>
        )}
      </>
    );
  }
  return (
    <div ref={ref} className={`stage ${layout}`} data-testid="stage" data-layout={focus.kind}>
      {body}
      {miniSelf && <SelfMini room={room} restore={() => setSelfMini(false)} />}
    </div>
  );
}

function SelfMini({ room, restore }: { room: Room; restore(): void }) {
  const lp = room.localParticipant;
  return (
    <div className="self-mini">
      <VideoTile participant={lp} publication={lp.getTrackPublication(Track.Source.Camera)} isLocal />
      <button type="button" className="icon small restore" aria-label={t('Show self view in the grid')} data-tip={t('Show self view')} data-testid="restore-self" onClick={restore}>
        <Maximize2 aria-hidden="true" size={16} />
      </button>
    </div>
  );
}

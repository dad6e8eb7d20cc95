import type { Usage } from '../api/types';
import { formatDateTime, formatNumber, t } from '../i18n';

/** A day (YYYY-MM-DD, UTC) as the chosen language writes it. */
function day(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : formatDateTime(d, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** A small SVG bar chart of participant minutes per day. */
export function UsageChart({ usage }: { usage: Usage }) {
  const days = (usage.daily ?? []).slice(-30);
  if (days.length === 0) return <p className="muted">{t('No daily usage yet.')}</p>;
  const max = Math.max(1, ...days.map((d) => d.participantMinutes));
  const w = 600;
  const h = 140;
  const pad = 18;
  const bw = Math.min(40, (w - pad) / days.length); // one day must not fill the chart
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h + pad}`} role="img" aria-labelledby="usage-title" preserveAspectRatio="none">
        <title id="usage-title">{t('Participant minutes per day, last {n} days', { n: days.length })}</title>
        <line x1={pad} y1={h} x2={w} y2={h} className="axis" />
        <text x={0} y={12} className="tick">
          {formatNumber(Math.round(max))}
        </text>
        {days.map((d, i) => {
          const bh = (d.participantMinutes / max) * (h - 16);
          return (
            <rect key={d.date} x={pad + i * bw + 1} y={h - bh} width={Math.max(1, bw - 2)} height={bh} className="bar">
              <title>
                {t('{date}: {n} participant minutes', { date: day(d.date), n: formatNumber(Math.round(d.participantMinutes)) })}
              </title>
            </rect>
          );
        })}
        <text x={pad} y={h + pad - 4} className="tick">
          {day(days[0].date)}
        </text>
        <text x={w} y={h + pad - 4} className="tick" textAnchor="end">
          {day(days[days.length - 1].date)}
        </text>
      </svg>
      <figcaption className="sr-only">
        {days.map((d) => t('{date}: {n} participant minutes', { date: day(d.date), n: formatNumber(Math.round(d.participantMinutes)) })).join('; ')}
      </figcaption>
    </figure>
  );
}

import { deviceLabel } from './devices';
import { t } from '../i18n';

/** A labelled choice of one kind of device; defaultOption adds "Default" (the empty value). */
export function DeviceSelect(props: {
  label: string;
  noun: string;
  list: MediaDeviceInfo[];
  value: string | undefined;
  defaultOption: boolean;
  onChange(id: string | undefined): void;
  testId: string;
}) {
  return (
    <label>
      {props.label}
      <select value={props.value ?? ''} onChange={(e) => props.onChange(e.target.value || undefined)} data-testid={props.testId}>
        {props.defaultOption && <option value="">{t('Default')}</option>}
        {props.list.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {deviceLabel(d, i, props.noun)}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * An on/off control: a native checkbox with the switch role, so it is focusable, toggles with Space,
 * is announced as "switch, on/off", and its visible label is the accessible name.
 */
export function Switch(props: {
  id: string;
  label: string;
  description?: string | null;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}) {
  const descriptionId = props.description ? `${props.id}-description` : undefined;
  return (
    <div className="sf-switch-row">
      <div className="sf-switch-text">
        <label htmlFor={props.id} className="sf-switch-label">
          {props.label}
        </label>
        {props.description ? (
          <p id={descriptionId} className="sf-switch-description">
            {props.description}
          </p>
        ) : null}
      </div>
      <input
        id={props.id}
        type="checkbox"
        role="switch"
        className="sf-switch"
        checked={props.checked}
        disabled={props.disabled}
        aria-describedby={descriptionId}
        onChange={(event) => props.onChange(event.currentTarget.checked)}
      />
    </div>
  );
}

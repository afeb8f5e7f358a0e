export const SENSOR_ID_MAX_LENGTH = 128;

// C0/C1 controls, DEL, and the Unicode line/paragraph separators that split log lines.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/** Returns why a sensor_id is unacceptable, or undefined when it is fine. */
export function sensorIdProblem(value: string): string | undefined {
  if (value.length === 0) return 'it is empty';
  // Counted in code points, as a person counts characters.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  if ([...value].length > SENSOR_ID_MAX_LENGTH) return `it is longer than ${SENSOR_ID_MAX_LENGTH} characters`;
  if (CONTROL.test(value)) return 'it contains control characters';
  if (value.trim() !== value) return 'it has leading or trailing whitespace';
  // The multipart decoder turns invalid UTF-8 into U+FFFD, which would merge distinct ids.
  if (value.includes('\uFFFD')) return 'it is not valid UTF-8';
  return undefined;
}

import { escapeInvisible } from '@cimd/core';

/**
 * One JSON object for --json. JSON.stringify leaves DEL, C1 controls and bidirectional or
 * invisible formatting characters raw; escaped as \u sequences the line is the same JSON value,
 * and an echoed document can no longer reorder or hide what a terminal shows.
 */
export function jsonLine(value: unknown): string {
  return `${escapeInvisible(JSON.stringify(value))}\n`;
}

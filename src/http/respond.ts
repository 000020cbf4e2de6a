import type { Context } from 'hono';
import type { HttpAnswer } from '../api/outcomes.js';

/** Writes an answer decided in api/outcomes.ts; nothing here chooses a status or a body. */
export function respond(c: Context, answer: HttpAnswer): Response {
  return c.json(answer.body, answer.status as 200, answer.headers ? { ...answer.headers } : undefined);
}

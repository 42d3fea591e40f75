/**
 * An error caused by the user's input (a flag, a file, a request): the CLI prints its message as
 * one line and exits non-zero, servers send it back to the client. The message must say what was
 * wrong and what to do about it.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Throws a UserError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new UserError(typeof message === 'string' ? message : message());
}

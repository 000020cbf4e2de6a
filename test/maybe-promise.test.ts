import { describe, expect, it } from 'vitest';
import { isPromiseLike, whenSettled } from '../src/maybe-promise.js';

describe('whenSettled', () => {
  it('calls back at once with a value at hand, before the caller goes on', () => {
    const seen: string[] = [];
    whenSettled(
      'now',
      (v) => seen.push(v),
      () => seen.push('failed'),
    );
    seen.push('after');
    expect(seen).toEqual(['now', 'after']);
  });

  it('calls back once a promise fulfils, not before the caller goes on', async () => {
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      whenSettled(
        Promise.resolve('later'),
        (v) => {
          seen.push(v);
          resolve();
        },
        () => seen.push('failed'),
      ),
    );
    seen.push('after');
    await done;
    expect(seen).toEqual(['after', 'later']);
  });

  it('hands a rejection, or an error thrown after waiting, to fail and never to then', async () => {
    const rejected = await new Promise<unknown>((resolve) =>
      whenSettled(Promise.reject(new Error('r')), () => resolve('then'), resolve),
    );
    expect(rejected).toMatchObject({ message: 'r' });
    const thrown = await new Promise<unknown>((resolve) =>
      whenSettled(
        Promise.resolve(1),
        () => {
          throw new Error('t');
        },
        resolve,
      ),
    );
    expect(thrown).toMatchObject({ message: 't' });
  });

  it('throws to its caller what then throws at once', () => {
    const fail = (): void => {
      throw new Error('fail must not be called');
    };
    expect(() =>
      whenSettled(
        1,
        () => {
          throw new Error('at once');
        },
        fail,
      ),
    ).toThrow('at once');
  });

  it('takes any thenable for a promise, and an object without then for a value', () => {
    expect(isPromiseLike({ then: () => undefined })).toBe(true);
    expect(isPromiseLike({ decision: 'allow' })).toBe(false);
    expect(isPromiseLike(null)).toBe(false);
    expect(isPromiseLike(undefined)).toBe(false);
  });
});

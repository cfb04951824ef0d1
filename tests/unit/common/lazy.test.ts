import { lazy } from '../../../lib/common/lazy';
import { deferred } from '../../helpers/fakes';

describe('lazy', () => {
  it('does not run init until first called', () => {
    const init = jest.fn(async () => 1);
    lazy(init);
    expect(init).not.toHaveBeenCalled();
  });

  it('runs init once and shares one promise between callers, concurrent or later', async () => {
    const gate = deferred<{ n: number }>();
    const init = jest.fn(() => gate.promise);
    const get = lazy(init);
    const first = get();
    const second = get();
    expect(second).toBe(first);
    gate.resolve({ n: 1 });
    const value = await first;
    expect(await get()).toBe(value);
    expect(init).toHaveBeenCalledTimes(1);
  });

  it('tries again after a rejected init, and then keeps the success', async () => {
    const init = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new Error('ssm throttled'))
      .mockResolvedValueOnce('ok')
      .mockResolvedValue('must not be called');
    const get = lazy(init);
    await expect(get()).rejects.toThrow('ssm throttled');
    expect(await get()).toBe('ok');
    expect(await get()).toBe('ok');
    expect(init).toHaveBeenCalledTimes(2);
  });

  it('gives every caller waiting on a failed init the same rejection', async () => {
    const gate = deferred<number>();
    const init = jest.fn(() => gate.promise);
    const get = lazy(init);
    const waiting = [get(), get()];
    gate.reject(new Error('cold start failed'));
    await expect(Promise.all(waiting)).rejects.toThrow('cold start failed');
    await expect(waiting[1]).rejects.toThrow('cold start failed');
    expect(init).toHaveBeenCalledTimes(1);
  });
});

import { once } from '../../../lib/common/once';

describe('once', () => {
  it('does not build until first called', () => {
    const build = jest.fn(() => 1);
    once(build);
    expect(build).not.toHaveBeenCalled();
  });

  it('builds once and gives every caller the same value', () => {
    const build = jest.fn(() => ({ client: 'ssm' }));
    const get = once(build);
    const first = get();
    expect(get()).toBe(first);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('keeps a falsy value instead of building it again', () => {
    const build = jest.fn(() => undefined);
    const get = once(build);
    get();
    get();
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('builds again after a build that threw', () => {
    const build = jest
      .fn<number, []>()
      .mockImplementationOnce(() => {
        throw new Error('no region');
      })
      .mockReturnValue(2);
    const get = once(build);
    expect(() => get()).toThrow('no region');
    expect(get()).toBe(2);
  });
});

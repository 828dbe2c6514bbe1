import { LiveOutput } from './live-session.output';

describe('LiveOutput', () => {
  it('sessions rendering the same root HTML share one event (encoded once for all their streams)', () => {
    const [a, b] = [new LiveOutput(), new LiveOutput()];
    a.baseline({}, '<p>0</p>');
    b.baseline({}, '<p>0</p>');
    const [first] = a.update({}, '<p>1</p>');
    const [second] = b.update({}, `<p>${1}</p>`);
    expect(second).toBe(first);
    expect(first.data).toBe('selector #ds-live-root\nmode inner\nelements <p>1</p>');
    const [other] = b.update({}, '<p>2</p>');
    expect(other).not.toBe(first);
    expect(other.data).toContain('elements <p>2</p>');
  });
});
